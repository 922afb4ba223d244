using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Core.Tests.Rules;

/// <summary>Test objects written as the manifests users apply, decoded through the product's one decode path.</summary>
internal static class Yaml
{
    public static T Object<T>(string yaml)
        where T : EgressObject => Assert.IsType<T>(Assert.Single(ManifestReader.Read(yaml)));

    public static ServiceEntry ServiceEntry(string spec) => Object<ServiceEntry>(Wrap("ServiceEntry", spec));

    public static Gateway Gateway(string spec) => Object<Gateway>(Wrap("Gateway", spec));

    public static VirtualService VirtualService(string spec, string ns = "default") => Object<VirtualService>(Wrap("VirtualService", spec, ns));

    public static DestinationRule DestinationRule(string spec) => Object<DestinationRule>(Wrap("DestinationRule", spec));

    private static string Wrap(string kind, string spec, string ns = "default") =>
        $"apiVersion: networking.istio.io/v1\nkind: {kind}\nmetadata:\n  name: t\n  namespace: {ns}\nspec:\n" +
        string.Join('\n', spec.Trim('\n').Split('\n').Select(l => "  " + l)) + "\n";
}
