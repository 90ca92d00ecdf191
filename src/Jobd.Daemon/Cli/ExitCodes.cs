namespace Jobd.Cli;

/// <summary>
/// Process exit codes, from sysexits.h so that supervisors can tell a bad configuration (never worth a restart:
/// the unit sets RestartPreventExitStatus=78) from a temporary failure.
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>EX_USAGE: unknown verb or flag, missing argument.</summary>
    public const int Usage = 64;

    /// <summary>EX_DATAERR: a job given on the command line or stdin is malformed.</summary>
    public const int DataErr = 65;

    /// <summary>EX_UNAVAILABLE: a dependency (Redis) is not available to a one-shot command.</summary>
    public const int Unavailable = 69;

    /// <summary>
    /// EX_SOFTWARE: a bug in jobd, or in a handler that made the process unfit to go on (it ignored its
    /// cancellation past JOBD_CANCEL_GRACE, or ran out of memory); the line before says which.
    /// </summary>
    public const int Software = 70;

    /// <summary>
    /// EX_TEMPFAIL: the recycling guard (JOBD_MAX_JOBS, JOBD_MAX_RSS_MB) ended this process after settling its job;
    /// start a fresh one. The systemd unit restarts on it and does not count it as a failure.
    /// </summary>
    public const int Recycle = 75;

    /// <summary>EX_CONFIG: a configuration variable is unknown or malformed.</summary>
    public const int Config = 78;
}
