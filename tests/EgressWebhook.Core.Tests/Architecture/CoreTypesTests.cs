using System.Reflection;
using System.Runtime.CompilerServices;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Tests.Architecture;

/// <summary>Core's classes are sealed unless designed for inheritance (docs/architecture.md, style.md §16), so new code
/// keeps it: a public class or record that is neither sealed, static nor abstract fails here unless it is listed with
/// the reason it is open.</summary>
public sealed class CoreTypesTests
{
    private static readonly Assembly Core = typeof(EgressObject).Assembly;

    /// <summary>Public non-abstract classes meant for inheritance, each with its reason. Empty: none is.</summary>
    private static readonly Dictionary<string, string> OpenByDesign = new(StringComparer.Ordinal);

    private static IEnumerable<Type> DeclaredClasses(IEnumerable<Type> types) =>
        types.Where(t => t.IsClass && !t.IsAbstract && !t.IsSealed && !t.IsDefined(typeof(CompilerGeneratedAttribute), false));

    [Fact]
    public void PublicClasses_AreSealedStaticOrAbstract_UnlessListedWithAReason()
    {
        var exported = Core.GetExportedTypes();
        Assert.True(exported.Length > 50, $"only {exported.Length} public types found in {Core.GetName().Name}: the reflection misses some");

        var open = DeclaredClasses(exported).Select(t => t.FullName!).Where(n => !OpenByDesign.ContainsKey(n)).Order(StringComparer.Ordinal).ToList();
        var stale = OpenByDesign.Keys.Where(n => Core.GetType(n) is not { IsVisible: true, IsSealed: false, IsAbstract: false }).ToList();

        Assert.True(stale.Count == 0, "listed as open by design but not a public open class: " + string.Join(", ", stale));

        Assert.True(open.Count == 0, "public classes neither sealed, static nor abstract (seal them, or list them with a reason): " + string.Join(", ", open));
    }

    [Fact]
    public void InternalClasses_AreSealedStaticOrAbstract()
    {
        var open = DeclaredClasses(Core.GetTypes().Where(t => !t.IsVisible))
            .Where(t => !t.Name.Contains('<', StringComparison.Ordinal) && t.Namespace?.StartsWith("EgressWebhook.Core", StringComparison.Ordinal) == true)
            .Select(t => t.FullName!).Order(StringComparer.Ordinal).ToList();

        Assert.True(open.Count == 0, "internal classes neither sealed, static nor abstract: " + string.Join(", ", open));
    }
}
