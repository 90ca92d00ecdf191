using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Npgsql;

namespace Jobd.Testing;

/// <summary>
/// A throwaway Postgres cluster on a free loopback port in a temporary folder. Postgres refuses to run as root,
/// so under root the cluster belongs to the unprivileged `postgres` user and its programs start via setpriv
/// (which execs in place, so killing the child kills the server, unlike su/runuser which fork).
/// </summary>
public sealed partial class PostgresServer : IAsyncDisposable
{
    public const string InstallHint = "install it with `apt-get install postgresql` (the README's setup does), or set DATABASE_URL to an existing server";
    private const string Superuser = "jobd";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string[] _command;
    public string Dir { get; }
    public int Port { get; }
    public string Host => "127.0.0.1";
    public ChildProcess Process { get; private set; }

    private PostgresServer(string dir, int port, string[] command, ChildProcess process)
    {
        Dir = dir;
        Port = port;
        _command = command;
        Process = process;
    }

    public string ConnectionString(string database = "postgres") =>
        $"Host={Host};Port={Port};Username={Superuser};Database={database};Pooling=false";

    public string Url(string database = "postgres") => $"postgres://{Superuser}@{Host}:{Port}/{database}";

    public static async Task<PostgresServer> StartAsync(params string[] extraSettings)
    {
        var dirs = ServerBinaries.PostgresDirs();
        var initdb = ServerBinaries.Find("initdb", InstallHint, dirs);
        var postgres = ServerBinaries.Find("postgres", InstallHint, dirs);
        var dir = Directory.CreateTempSubdirectory("jobd-pg-").FullName;
        bool root = GetEuid() == 0;
        if (root) await RunAsync("chown", new[] { "postgres:postgres", dir }).ConfigureAwait(false);
        var data = Path.Combine(dir, "data");
        await RunAsync(initdb, new[] { "-D", data, "-U", Superuser, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync" }, root)
            .ConfigureAwait(false);
        for (int attempt = 1; ; attempt++)
        {
            int port = FreePort.Next();
            var command = new List<string>
            {
                postgres, "-D", data, "-p", port.ToString(), "-k", dir, "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200",
            };
            foreach (var s in extraSettings) { command.Add("-c"); command.Add(s); }
            var argv = root ? AsPostgresUser(command) : command.ToArray();
            var process = ChildProcess.Start(argv[0], argv[1..]);
            try
            {
                await WaitReadyAsync(process).ConfigureAwait(false);
                return new PostgresServer(dir, port, argv, process);
            }
            catch (Exception) when (attempt < 3)
            {
                await process.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static Task WaitReadyAsync(ChildProcess process) =>
        process.Stderr.WaitAsync(l => l.Contains("ready to accept connections", StringComparison.Ordinal),
            StartTimeout, "postgres to accept connections");

    private static string[] AsPostgresUser(IReadOnlyList<string> command)
    {
        var argv = new List<string> { "setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--" };
        argv.AddRange(command);
        return argv.ToArray();
    }

    private static async Task RunAsync(string program, string[] args, bool asPostgres = false)
    {
        var argv = new List<string> { program };
        argv.AddRange(args);
        var full = asPostgres ? AsPostgresUser(argv) : argv.ToArray();
        await using var p = ChildProcess.Start(full[0], full[1..]);
        int code = await p.WaitForExitAsync(TimeSpan.FromSeconds(120)).ConfigureAwait(false);
        if (code != 0)
            throw new InvalidOperationException($"test fixture: `{p.Describe}` exited {code}:\n" +
                                                string.Join("\n", p.Stderr.Snapshot()));
    }

    /// <summary>Fast shutdown (SIGINT), as `pg_ctl stop -m fast` does.</summary>
    public Task StopAsync()
    {
        Process.Signal(ChildProcess.SIGINT);
        return Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task StartAgainAsync()
    {
        if (!Process.HasExited) await StopAsync().ConfigureAwait(false);
        await Process.DisposeAsync().ConfigureAwait(false);
        Process = ChildProcess.Start(_command[0], _command[1..]);
        await WaitReadyAsync(Process).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            try { await StopAsync().ConfigureAwait(false); }
            catch (TimeoutException) { }
        }
        await Process.DisposeAsync().ConfigureAwait(false);
        try { Directory.Delete(Dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    public async Task ExecuteAsync(string sql, string database = "postgres")
    {
        await using var conn = new NpgsqlConnection(ConnectionString(database));
        await conn.OpenAsync().ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();
}
