using Vetrina.Grains.Common;

namespace Vetrina.Tests.Storage;

public sealed class UniqueCounterTests
{
    [Fact]
    public void The_running_estimate_equals_one_computed_from_the_registers_and_stays_within_its_error()
    {
        var counter = new UniqueCounter();
        Assert.Equal(0, counter.Estimate());
        for (var i = 0; i < 200_000; i++)
        {
            counter.Add($"shopper-{i}");
            if (i is 10 or 1_000 or 50_000)
            {
                // Read between additions: the kept sums must follow every later change.
                var reloaded = new UniqueCounter { Registers = (byte[])counter.Registers.Clone() };
                Assert.Equal(reloaded.Estimate(), counter.Estimate());
            }
        }
        var fresh = new UniqueCounter { Registers = (byte[])counter.Registers.Clone() };
        Assert.Equal(fresh.Estimate(), counter.Estimate());
        Assert.InRange(counter.Estimate(), 200_000 * 0.95, 200_000 * 1.05);
        counter.Add("shopper-1");
        Assert.Equal(fresh.Estimate(), counter.Estimate());
    }
}
