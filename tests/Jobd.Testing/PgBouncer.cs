using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;

namespace Jobd.Testing;

/// <summary>
/// A real pgbouncer in transaction pooling mode in front of a Postgres, on a free loopback port: what jobd
/// must work behind (no session state, no server-side prepared statements kept across transactions).
/// pgbouncer refuses to run as root, so under root it runs as the postgres user, like the Postgres fixture.
/// </summary>
public sealed class PgBouncer : IAsyncDisposable
{
    public const string InstallHint = "install it with `apt-get install pgbouncer` (the README's setup does)";
    private readonly string _dir;

    private PgBouncer(string dir, int port, ChildProcess process)
    {
        _dir = dir;
        Port = port;
        Process = process;
    }

    public int Port { get; }
    public ChildProcess Process { get; }

    public static async Task<PgBouncer> StartAsync(string postgresHost, int postgresPort, string user)
    {
        var program = ServerBinaries.Find("pgbouncer", InstallHint, "/usr/sbin");
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(program, postgresHost, postgresPort, user).ConfigureAwait(false);
            }
            catch (TimeoutException) when (attempt < 3)
            {
                // The free port was taken meanwhile, most likely: another port.
            }
        }
    }

    private static async Task<PgBouncer> StartOnceAsync(string program, string postgresHost, int postgresPort, string user)
    {
        var dir = Directory.CreateTempSubdirectory("jobd-pgbouncer-").FullName;
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(dir, (UnixFileMode)0x1ED); // 0755: readable by the postgres user
        int port = FreePort.Next();
        var ini = Path.Combine(dir, "pgbouncer.ini");
        await File.WriteAllTextAsync(Path.Combine(dir, "users.txt"), $"\"{user}\" \"\"\n").ConfigureAwait(false);
        await File.WriteAllTextAsync(ini, string.Join('\n',
            "[databases]",
            $"* = host={postgresHost} port={postgresPort}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            $"listen_port = {port}",
            "unix_socket_dir =",
            "auth_type = trust",
            $"auth_file = {Path.Combine(dir, "users.txt")}",
            "pool_mode = transaction",
            "default_pool_size = 4",
            "max_client_conn = 100",
            "ignore_startup_parameters = extra_float_digits,search_path",
            "")).ConfigureAwait(false);
        var argv = new List<string>();
        if (Environment.UserName == "root") argv.AddRange(new[] { "setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--" });
        argv.Add(program);
        argv.Add(ini);
        var process = ChildProcess.Start(argv[0], argv.GetRange(1, argv.Count - 1));
        try
        {
            await process.Stderr.WaitAsync(l => l.Contains("listening on 127.0.0.1:" + port, StringComparison.Ordinal),
                TimeSpan.FromSeconds(20), "pgbouncer to listen").ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await process.DisposeAsync().ConfigureAwait(false);
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
            throw;
        }
        return new PgBouncer(dir, port, process);
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync().ConfigureAwait(false);
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
