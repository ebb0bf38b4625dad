using System.Linq;

namespace CnnGen.Tests.Zoo.Tests;

/// <summary>The JIT's limits on the compiled zoo networks (as SnapshotTests checks the small ones): no method over 60 KB of IL.</summary>
public class ZooJitLimitTests
{
    [TestCaseSource(typeof(ZooNetworks), nameof(ZooNetworks.All))]
    public void Every_generated_method_stays_below_the_JIT_limit(ZooNetwork network)
    {
        var bodies = ILSizes.OfNetwork(ILSizes.Read(network.Type.Assembly.Location), network.Type.Name).Values.SelectMany(b => b).ToList();
        Assert.That(bodies, Has.Count.GreaterThan(10), "the network's methods were found");
        var largest = bodies.MaxBy(b => b.Bytes)!;
        TestContext.Out.WriteLine($"{network.Model}: {bodies.Count} methods, largest {largest.Type}.{largest.Method} {largest.Bytes:N0} bytes of IL");
        Assert.That(largest.Bytes, Is.LessThan(ILSizes.JitLimitBytes), $"{largest.Type}.{largest.Method}");
    }
}
