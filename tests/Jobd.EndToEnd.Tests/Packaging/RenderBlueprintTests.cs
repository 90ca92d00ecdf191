using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Packaging;

/// <summary>
/// packaging/render/render.yaml parses as YAML (Debian's python3-yaml, installed by packaging/dev/deps.sh) and wires
/// a Docker background worker to a Render Key Value (REDIS_URL) and a Render Postgres (DATABASE_URL). Key Value must
/// be noeviction (queues are not a cache) and reachable only inside Render (an empty ipAllowList, a required field).
/// </summary>
public sealed class RenderBlueprintTests
{
    // Prints one fact per line so the assertions below read the parsed document, not the text.
    private const string Probe = """
        import sys, yaml
        d = yaml.safe_load(open(sys.argv[1]))
        w = [s for s in d["services"] if s["type"] == "worker"][0]
        kv = [s for s in d["services"] if s["type"] == "keyvalue"][0]
        env = {e["key"]: e for e in w["envVars"]}
        print("worker", w["runtime"], w["dockerfilePath"], w["plan"])
        print("redis", env["REDIS_URL"]["fromService"]["type"], env["REDIS_URL"]["fromService"]["name"] == kv["name"], env["REDIS_URL"]["fromService"]["property"])
        print("database", env["DATABASE_URL"]["fromDatabase"]["name"] == d["databases"][0]["name"], env["DATABASE_URL"]["fromDatabase"]["property"])
        print("keyvalue", kv["maxmemoryPolicy"], "ipAllowList", kv["ipAllowList"])
        print("other env", sorted(k for k in env if k not in ("REDIS_URL", "DATABASE_URL")))
        print("shutdown", w["maxShutdownDelaySeconds"] > int(env["JOBD_SHUTDOWN_TIMEOUT"]["value"].rstrip("s")))
        """;

    [Fact]
    public async Task Blueprint_is_yaml_with_a_docker_worker_wired_to_keyvalue_and_postgres()
    {
        string output = await Tool.Ok("/usr/bin/python3", "-c", Probe, RepoPaths.File("packaging", "render", "render.yaml"));
        Assert.Equal(new[]
        {
            "worker docker ./Dockerfile.aot starter",
            "redis keyvalue True connectionString",
            "database True connectionString",
            "keyvalue noeviction ipAllowList []",
            "other env ['JOBD_SHUTDOWN_TIMEOUT']",
            // Render's kill delay outlasts jobd's own shutdown timeout.
            "shutdown True",
        }, Tool.Lines(output));
        // The worker builds the repository's own Dockerfile.
        Assert.True(System.IO.File.Exists(RepoPaths.File("Dockerfile.aot")));
    }
}
