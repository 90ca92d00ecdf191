using System.Threading.Tasks;
using Jobd.Testing;
using Xunit;

namespace Jobd.EndToEnd.Tests.Packaging;

/// <summary>packaging/render/render.yaml parses as YAML (Debian's python3-yaml) and wires the worker as documented.</summary>
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
        print("keyvalue", kv["maxmemoryPolicy"])
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
            "keyvalue noeviction",
        }, Tool.Lines(output));
    }
}
