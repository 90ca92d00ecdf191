using System;
using System.Globalization;
using System.Text;

namespace Jobd.Runtime;

/// <summary>
/// This process's worker id, "jobd:HOST:PID:RANDOM": sent as the Redis client name (CLIENT LIST shows which
/// worker holds which connection) and, later, the owner of its processing list and heartbeat. The random part
/// keeps a restarted process with a recycled pid (common in containers, where jobd is often pid 1) distinct.
/// </summary>
public static class WorkerIdentity
{
    public static string Create(string hostName, int pid, Random random)
    {
        var sb = new StringBuilder("jobd:");
        foreach (char c in hostName)
        {
            if (sb.Length >= 5 + 63) break;
            // CLIENT SETNAME refuses spaces and newlines; keep the name to a safe alphabet.
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        }
        sb.Append(':').Append(pid.ToString(CultureInfo.InvariantCulture)).Append(':');
        for (int i = 0; i < 6; i++) sb.Append("0123456789abcdefghijklmnopqrstuvwxyz"[random.Next(36)]);
        return sb.ToString();
    }

    public static string ForThisProcess() => Create(Environment.MachineName, Environment.ProcessId, Random.Shared);
}
