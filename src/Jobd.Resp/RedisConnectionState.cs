// The states RedisClient reports to the daemon, once per change.
namespace Jobd.Resp;

public enum RedisConnectionState
{
    /// <summary>Connected, authenticated and ready.</summary>
    Up,
    /// <summary>Not connected; the client is retrying with backoff.</summary>
    Down,
}
