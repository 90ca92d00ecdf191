using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Faults;

/// <summary>
/// RELIABILITY.md R13 and "Security / Redis access" as written there: the `default` user off, jobd running everything
/// as a least-privilege ACL user that is denied FLUSHALL, DEBUG, SCRIPT FLUSH and keys outside its prefix; and a user
/// refused at start-up (wrong password, a missing command or key pattern) ends `jobd run` with exit 78 and one line.
/// (RedisFaultTests.R13 runs the same user with `default` on.)
/// </summary>
public sealed class AclTests
{
    private const string JobdPassword = "acl-canary-5b1e0d";

    /// <summary>
    /// RELIABILITY.md's list, corrected by running it: keys are ~{jobd}:* (the prefix is a hash tag), the scripts read
    /// TIME, and the outbox is a stream.
    /// </summary>
    private static readonly string[] LeastPrivilege =
    {
        "~{jobd}:*", "-@all", "+@list", "+@sortedset", "+@hash", "+@string", "+@keyspace", "+@scripting", "-@dangerous",
        "-script|flush", "+ping", "+info", "+client|setname", "+@stream", "+time",
    };

    private static async Task<FaultRun> WithAdminAsync(string scenario)
    {
        var run = await FaultRun.StartAsync(scenario);
        run.RedisCommand(FaultKind.Other, "ACL", "SETUSER", "admin", "on", ">" + FaultRun.Canary, "~*", "&*", "+@all");
        run.ProbeUser = "admin";
        run.Secrets.Add(JobdPassword);
        return run;
    }

    private static void SetUser(FaultRun run, string name, IEnumerable<string> rules)
    {
        var args = new List<string> { "ACL", "SETUSER", name, "reset", "on", ">" + JobdPassword };
        args.AddRange(rules);
        run.RedisCommand(FaultKind.Other, args.ToArray());
    }

    private static string UserUrl(FaultRun run, string user, string password = JobdPassword) =>
        $"redis://{user}:{password}@{run.Redis.Host}:{run.Redis.Port}/0";

    [Fact]
    public async Task R13_default_off_a_least_privilege_user_runs_everything_and_is_denied_the_rest()
    {
        await using var run = await WithAdminAsync("S-acl-least-privilege");
        SetUser(run, "jobd", LeastPrivilege);
        run.RedisCommand(FaultKind.Other, "ACL", "SETUSER", "default", "off");
        await run.EnqueueAsync(300, i => (i % 2, i % 10 == 0 ? 2 : 0));
        var url = ("REDIS_URL", UserUrl(run, "jobd"));
        await run.StartWorkerAsync(url);
        await run.StartWorkerAsync(url);
        await run.DrainAsync(TimeSpan.FromSeconds(60));
        await run.CheckAsync();
        Assert.Equal(0, run.CountLines("NOPERM"));

        var denied = new List<string>();
        using (var jobd = new RedisProbe(run.Redis.Host, run.Redis.Port, 0, JobdPassword, "jobd"))
        {
            foreach (var command in new[]
                     {
                         new[] { "FLUSHALL" }, new[] { "DEBUG", "SLEEP", "0" }, new[] { "SCRIPT", "FLUSH" }, new[] { "CONFIG", "SET", "maxmemory", "1" },
                         new[] { "KEYS", "*" }, new[] { "GET", "other:secret" }, new[] { "SET", "sessions:1", "x" },
                         new[] { "EVAL", "return redis.call('GET', 'other:secret')", "0" },
                     })
            {
                var e = Assert.Throws<InvalidOperationException>(() => jobd.Call(command));
                Assert.True(e.Message.Contains("NOPERM", StringComparison.Ordinal) || e.Message.Contains("The user executing the script can't", StringComparison.Ordinal),
                    string.Join(' ', command) + ": " + e.Message);
                denied.Add(command[0] + (command.Length > 1 && command[0] is "DEBUG" or "SCRIPT" or "CONFIG" ? " " + command[1] : ""));
            }
        }
        using (var anonymous = new RedisProbe(run.Redis.Host, run.Redis.Port))
            Assert.Contains("NOAUTH", Assert.Throws<InvalidOperationException>(() => anonymous.Call("PING")).Message);
        FaultTable.Record("S-acl-least-privilege", "default user off; two workers as ACL user jobd (" + string.Join(' ', LeastPrivilege) + "), 300 jobs with retries",
            "everything ran, no NOPERM; as jobd the test was denied " + string.Join(", ", denied) + "; an unauthenticated PING gets NOAUTH. RELIABILITY.md's list needed ~{jobd}:* (not ~jobd:*), +time (the scripts read TIME) and +@stream (the outbox)",
            "I1–I5 hold; least privilege");
    }

    [Fact]
    public async Task R13_a_refusal_at_start_ends_run_with_exit_78_and_one_line()
    {
        await using var run = await WithAdminAsync("S-acl-refused-at-start");
        var withoutSetName = new List<string>(LeastPrivilege);
        withoutSetName.Remove("+client|setname");
        var withoutSortedSets = new List<string>(LeastPrivilege);
        withoutSortedSets.Remove("+@sortedset");
        var withoutScripting = new List<string>(LeastPrivilege);
        withoutScripting.Remove("+@scripting");
        var otherKeys = new List<string>(LeastPrivilege);
        otherKeys[0] = "~other:*";
        SetUser(run, "jobd", LeastPrivilege);
        SetUser(run, "nosetname", withoutSetName);
        SetUser(run, "nozset", withoutSortedSets);
        SetUser(run, "noscripts", withoutScripting);
        SetUser(run, "otherkeys", otherKeys);
        run.RedisCommand(FaultKind.Other, "ACL", "SETUSER", "default", "off");

        var checker = new LedgerChecker("S-acl-refused-at-start", 0);
        var lines = new List<string>();
        foreach (var (what, url, names) in new[]
                 {
                     ("wrong password", UserUrl(run, "jobd", "not-" + JobdPassword), "WRONGPASS"),
                     ("default user off", $"redis://{run.Redis.Host}:{run.Redis.Port}/0", "NOAUTH"),
                     ("no CLIENT SETNAME", UserUrl(run, "nosetname"), "NOPERM"),
                     ("no SCRIPT LOAD", UserUrl(run, "noscripts"), "NOPERM"),
                     ("no sorted sets (the tick's ZADD)", UserUrl(run, "nozset"), "can't run this command"),
                     ("keys of another prefix", UserUrl(run, "otherkeys"), "NOPERM"),
                 })
        {
            await using var w = JobdBinary.Start(new[] { "run" }, JobdBinary.Env(("REDIS_URL", url)));
            int code = await w.WaitForExitAsync(TimeSpan.FromSeconds(30));
            checker.CheckConfigError(what, code, w.Stderr.Snapshot(), w.Stdout.Snapshot(), names, run.Secrets);
            foreach (var l in w.Stderr.Snapshot())
                if (l.Contains(" error ", StringComparison.Ordinal)) lines.Add(what + ": '" + l[(l.IndexOf(" error ", StringComparison.Ordinal) + 7)..] + "'");
        }
        checker.Throw();
        FaultTable.Record("S-acl-refused-at-start", "jobd run with a wrong password, with the default user off and no credentials, and as users lacking CLIENT SETNAME, SCRIPT LOAD, sorted sets, or the prefix's keys",
            "exit 78 with one error line each (was: WRONGPASS/NOPERM at the handshake retried forever; a missing command inside a script only surfaced at the first tick): " + string.Join("; ", lines),
            "I4 (exit 78, one line, no secret)");
    }
}
