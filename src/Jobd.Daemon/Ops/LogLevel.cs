namespace Jobd.Ops;

public enum LogLevel
{
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

public enum LogFormat
{
    Auto,
    Text,
    Json,
    Journal,
}
