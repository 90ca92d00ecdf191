using System.Threading.Tasks;
using Jobd.Config;
using Jobd.Ops;
using Jobd.Runtime;

namespace Jobd.Cli;

/// <summary>`jobd run`: wires the configuration, log, systemd notifier and signals to the <see cref="Daemon"/>.</summary>
public static class RunVerb
{
    private static readonly System.TimeSpan LogFlushOnExit = System.TimeSpan.FromSeconds(1);

    public static async Task<int> RunAsync(JobdConfig config, Jobd.Handlers.HandlerRegistry handlers)
    {
        var log = Log.Stderr(config.LogFormat, config.LogLevel);
        using var notifier = SystemdNotifier.FromEnvironment();
        using var signals = new ShutdownSignals();
        var daemon = new Daemon(config, log, notifier, WorkerIdentity.ForThisProcess(), handlers);
        int code = await daemon.RunAsync(signals).ConfigureAwait(false);
        await handlers.DisposeAsync().ConfigureAwait(false);
        // The last lines (why it stopped) must reach the log, but a stalled reader must not hold the exit.
        log.Flush(LogFlushOnExit);
        return code;
    }
}
