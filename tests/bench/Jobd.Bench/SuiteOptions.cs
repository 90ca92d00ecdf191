// Sizes and timings of one benchmark suite: the full run (the README's figures) or the smoke run (CI, seconds).
using System;

namespace Jobd.Bench;

internal sealed record SuiteOptions
{
    public required string JobdBinary { get; init; }
    public required string OutDir { get; init; }
    public bool Smoke { get; init; }
    public int Runs { get; init; } = 3;
    public TimeSpan IdleRssAfter { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan IdleSettle { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan IdleCommandsWindow { get; init; } = TimeSpan.FromSeconds(60);
    public int DrainJobs { get; init; } = 100_000;
    public int LatencyJobs { get; init; } = 1_000;
    public int DueJobs { get; init; } = 10_000;
    public int PingRequests { get; init; } = 100_000;

    public static SuiteOptions Full(string binary, string outDir) => new() { JobdBinary = binary, OutDir = outDir };

    public static SuiteOptions SmokeRun(string binary, string outDir) => new()
    {
        JobdBinary = binary, OutDir = outDir, Smoke = true, Runs = 1,
        IdleRssAfter = TimeSpan.FromSeconds(1), IdleSettle = TimeSpan.FromSeconds(0.5), IdleCommandsWindow = TimeSpan.FromSeconds(2),
        DrainJobs = 2_000, LatencyJobs = 20, DueJobs = 2_500, PingRequests = 5_000,
    };
}
