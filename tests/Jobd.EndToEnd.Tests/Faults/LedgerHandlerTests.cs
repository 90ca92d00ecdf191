using System.IO;
using System.Threading.Tasks;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>The `ledger` test handler writes only where JOBD_LEDGER_DIR points, and nowhere without it.</summary>
public sealed class LedgerHandlerTests : WorkerTest
{
    [Fact]
    public async Task Without_a_ledger_dir_a_ledger_job_fails_for_good_and_writes_nothing()
    {
        var id = (await H.EnqueueAsync("{\"type\":\"ledger\",\"args\":{\"ms\":0}}\n"))[0];
        await using var w = await H.StartWorkerAsync();
        await WorkerHarness.LogLineAsync(w, $"job {id} failed for good", WorkerHarness.Startup);
        Assert.Equal("dead", H.Field(id, "state"));
        Assert.Equal("ledger: JOBD_LEDGER_DIR is not set", H.Field(id, "last_error"));
    }

    [Fact]
    public async Task A_ledger_job_records_its_start_and_end_with_attempt_token_and_pid()
    {
        var dir = Directory.CreateTempSubdirectory("jobd-ledger-").FullName;
        try
        {
            var id = (await H.EnqueueAsync("{\"type\":\"ledger\",\"args\":{\"ms\":5,\"succeed_on_attempt\":2}}\n"))[0];
            await using var w = await H.StartWorkerAsync(("JOBD_LEDGER_DIR", dir));
            await WorkerHarness.LogLineAsync(w, $"job {id} ledger done", WorkerHarness.Startup);
            var runs = Ledger.Read(dir);
            Assert.Equal(2, runs.Count);
            Assert.Equal(new[] { 1, 2 }, new[] { runs[0].Attempt, runs[1].Attempt });
            Assert.Equal(new[] { "retry", "ok" }, new[] { runs[0].Outcome, runs[1].Outcome });
            Assert.All(runs, r => Assert.Equal(w.Pid, r.Pid));
            Assert.Equal(H.Field(id, "token"), runs[1].Token);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
