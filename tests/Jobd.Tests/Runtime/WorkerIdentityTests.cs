using System;
using Jobd.Runtime;
using Xunit;

namespace Jobd.Tests.Runtime;

public sealed class WorkerIdentityTests
{
    [Fact]
    public void The_id_names_host_and_pid_in_a_client_name_safe_alphabet()
    {
        var id = WorkerIdentity.Create("web 1\nprod", 4242, new Random(7));
        Assert.StartsWith("jobd:web_1_prod:4242:", id);
        Assert.DoesNotContain(' ', id);
        Assert.Equal(6, id.Length - id.LastIndexOf(':') - 1);
    }

    [Fact]
    public void Two_processes_with_the_same_pid_get_different_ids()
    {
        var rng = new Random(1);
        Assert.NotEqual(WorkerIdentity.Create("h", 1, rng), WorkerIdentity.Create("h", 1, rng));
    }

    [Fact]
    public void A_long_host_name_is_cut()
    {
        var id = WorkerIdentity.Create(new string('a', 300), 1, new Random(1));
        Assert.True(id.Length < 90, id);
    }
}
