using System;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using Jobd.Cli;
using Jobd.Config;

namespace Jobd;

/// <summary>
/// The entry point a host program calls: parses the command line, dispatches to a verb, maps failures to
/// sysexits codes. Every refusal is one line on stderr.
/// </summary>
public static class JobdMain
{
    /// <param name="register">Registers compiled-in handlers beside the built-in noop, sleep and fail.</param>
    public static async Task<int> RunAsync(string[] args, Action<Jobd.Handlers.HandlerRegistry>? register = null)
    {
        Jobd.Ops.SafeConsole.Install();
        try
        {
            return await DispatchAsync(args, register).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A bug, not an input or a dependency: one line and EX_SOFTWARE, not a runtime abort (134).
            Console.Error.WriteLine("jobd: internal error: " + Jobd.Ops.TextEscape.Escape(e.GetType().Name + ": " + e.Message, 500));
            return ExitCodes.Software;
        }
    }

    private static async Task<int> DispatchAsync(string[] args, Action<Jobd.Handlers.HandlerRegistry>? register)
    {
        var cmd = CommandLine.Parse(args, out var usageError);
        if (cmd is null)
        {
            Console.Error.WriteLine("jobd: " + usageError);
            return ExitCodes.Usage;
        }
        if (cmd.Has("--help") && args.Length > 1 || cmd.Verb == Verb.Run && cmd.Has("--help") && args[0] == "run")
        {
            HelpText.WriteVerb(Console.Out, cmd.Verb);
            return ExitCodes.Ok;
        }
        if (cmd.Verb == Verb.Help && cmd.Positionals.Count == 1)
        {
            var verb = Verb.Find(cmd.Positionals[0]);
            if (verb is null)
            {
                Console.Error.WriteLine("jobd: help: unknown verb; usage: " + Verb.Usage);
                return ExitCodes.Usage;
            }
            HelpText.WriteVerb(Console.Out, verb);
            return ExitCodes.Ok;
        }
        if (cmd.Verb == Verb.Help || cmd.Has("--help"))
        {
            HelpText.WriteOverview(Console.Out);
            return ExitCodes.Ok;
        }
        if (cmd.Verb == Verb.Version)
        {
            Console.Out.WriteLine(VersionVerb.Describe());
            return ExitCodes.Ok;
        }
        if (cmd.Verb == Verb.Config && cmd.Has("--reference"))
        {
            Console.Out.Write(ConfigPrinter.ReferenceMarkdown());
            return ExitCodes.Ok;
        }

        var env = ConfigLoader.ProcessEnvironment();
        JobdConfig config;
        try
        {
            config = ConfigLoader.Load(env);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine("jobd: configuration error: " + e.Message);
            return ExitCodes.Config;
        }

        if (cmd.Verb == Verb.Config)
        {
            await using (var compiledIn = CompiledIn(config, register))
            {
                try
                {
                    Jobd.Handlers.Routes.RouteHandlers.CheckClashes(compiledIn, config.Routes);
                }
                catch (ConfigException e)
                {
                    Console.Error.WriteLine("jobd: configuration error: " + e.Message);
                    return ExitCodes.Config;
                }
            }
            if (cmd.Has("--json"))
            {
                using var stdout = Jobd.Ops.SafeConsole.OpenStdout();
                ConfigPrinter.WriteJson(stdout, config, env);
            }
            else
            {
                ConfigPrinter.WriteText(Console.Out, config, env);
            }
            return ExitCodes.Ok;
        }
        if (cmd.Verb == Verb.Enqueue)
        {
            await using var stdout = new StreamWriter(Jobd.Ops.SafeConsole.OpenStdout(), new UTF8Encoding(false), 1 << 16);
            // Strict decoding: invalid UTF-8 on stdin is refused, not turned into U+FFFD and stored changed.
            using var stdin = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false, throwOnInvalidBytes: true), false, 1 << 16);
            return await EnqueueVerb.RunAsync(cmd, config, stdin, stdout, Console.Error).ConfigureAwait(false);
        }
        if (cmd.Verb == Verb.Stats || cmd.Verb == Verb.Job || cmd.Verb == Verb.Dead || cmd.Verb == Verb.Cron)
        {
            await using var stdout = new StreamWriter(Jobd.Ops.SafeConsole.OpenStdout(), new UTF8Encoding(false), 1 << 16);
            if (cmd.Verb == Verb.Stats) return await StatsVerb.RunAsync(cmd, config, stdout, Console.Error).ConfigureAwait(false);
            if (cmd.Verb == Verb.Job) return await JobVerb.RunAsync(cmd, config, stdout, Console.Error).ConfigureAwait(false);
            if (cmd.Verb == Verb.Cron) return await CronVerb.RunAsync(cmd, config, stdout, Console.Error).ConfigureAwait(false);
            return await DeadVerb.RunAsync(cmd, config, stdout, Console.Error).ConfigureAwait(false);
        }
        if (cmd.Verb == Verb.Migrate) return await MigrateVerb.RunAsync(config, Console.Out, Console.Error).ConfigureAwait(false);
        if (cmd.Verb == Verb.Health) return await HealthVerb.RunAsync(cmd, config, Console.Out).ConfigureAwait(false);
        var handlers = CompiledIn(config, register);
        try
        {
            Jobd.Handlers.Routes.RouteHandlers.Register(handlers, config);
        }
        catch (ConfigException e)
        {
            await handlers.DisposeAsync().ConfigureAwait(false);
            Console.Error.WriteLine("jobd: configuration error: " + e.Message);
            return ExitCodes.Config;
        }
        return await RunVerb.RunAsync(config, handlers).ConfigureAwait(false);
    }

    /// <summary>The compiled-in handlers: the built-ins, ledger, and the host program's own.</summary>
    private static Jobd.Handlers.HandlerRegistry CompiledIn(JobdConfig config, Action<Jobd.Handlers.HandlerRegistry>? register)
    {
        var handlers = Jobd.Handlers.HandlerRegistry.WithBuiltIns();
        handlers.Register("ledger", new Jobd.Handlers.LedgerHandler(config.LedgerDir));
        register?.Invoke(handlers);
        return handlers;
    }
}
