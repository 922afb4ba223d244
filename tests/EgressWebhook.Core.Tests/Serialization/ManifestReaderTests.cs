using System.Text.Json;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Serialization;

public sealed class ManifestReaderTests
{
    [Theory]
    [InlineData("v1alpha3")]
    [InlineData("v1beta1")]
    [InlineData("v1")]
    public void Read_AllThreeIstioVersions_DecodeTheSameSchema(string version)
    {
        var objects = ManifestReader.Read($"""
            apiVersion: networking.istio.io/{version}
            kind: ServiceEntry
            metadata: {"{"}name: cnn{"}"}
            spec:
              hosts: [edition.cnn.com]
              ports: [{"{"}number: 443, name: tls, protocol: TLS{"}"}]
              resolution: DNS
            """);

        var se = Assert.IsType<ServiceEntry>(Assert.Single(objects));
        Assert.Equal("default", se.Namespace);
        Assert.Equal(["edition.cnn.com"], se.Spec.Hosts);
        Assert.Equal(443, se.Spec.Ports[0].Number);
    }

    [Fact]
    public void Read_MultiDocumentAndList_ExpandsItemsAndSkipsUnknownKinds()
    {
        var objects = ManifestReader.Read("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: sleep}
            ---
            ---
            apiVersion: v1
            kind: List
            items:
            - apiVersion: networking.istio.io/v1
              kind: Gateway
              metadata: {name: a, namespace: istio-system}
            - apiVersion: networking.istio.io/v1
              kind: WorkloadEntry
              metadata: {name: b}
            - apiVersion: v1
              kind: Namespace
              metadata: {name: team-a}
            """);

        Assert.Collection(objects,
            o => Assert.Equal(new ObjectRef("Gateway", "istio-system", "a"), o.Ref),
            o => Assert.Equal(new ObjectRef("Namespace", "", "team-a"), o.Ref));
    }

    [Fact]
    public void Read_UnknownFieldsAndEnumValues_AreKeptOrIgnored()
    {
        var se = (ServiceEntry)ManifestReader.Read("""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: x, futureField: 1}
            spec:
              hosts: [a.example.com]
              resolution: DYNAMIC_DNS
              somethingNew: {nested: true}
              ports: [{number: "8443", name: https, protocol: https}]
            """).Single();

        Assert.Equal("DYNAMIC_DNS", se.Spec.Resolution);
        Assert.Equal(8443, se.Spec.Ports[0].Number);
        Assert.True(Protocols.IsTls(se.Spec.Ports[0].Protocol));
    }

    [Fact]
    public void Read_NullItems_AreDropped()
    {
        var vs = (VirtualService)ManifestReader.Read("""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: x, labels: {a: ~, b: "1"}}
            spec:
              hosts: [~, a.example.com]
              http: [~]
            """).Single();

        Assert.Equal(["a.example.com"], vs.Spec.Hosts);
        Assert.Empty(vs.Spec.Http);
        Assert.Equal(["b"], vs.Metadata.Labels.Keys);
        Assert.NotNull(EgressEngine.Default.CheckAll(EgressSnapshot.Create([vs]), RuleSettings.Default));
    }

    [Fact]
    public void Read_UnquotedNumbersInStringFields_AreStrings()
    {
        var svc = (Service)ManifestReader.Read("""
            apiVersion: v1
            kind: Service
            metadata: {name: gw, namespace: istio-system, labels: {version: 1}}
            spec:
              selector: {istio: egressgateway}
              ports: [{name: https, port: 443, targetPort: 8443}]
            """).Single();

        Assert.Equal("8443", svc.Spec.Ports[0].TargetPort);
        Assert.Equal("1", svc.Metadata.Labels["version"]);
    }

    [Fact]
    public void Read_SnakeCaseSniHosts_FoldIntoSniHosts()
    {
        var vs = (VirtualService)ManifestReader.Read("""
            apiVersion: networking.istio.io/v1alpha3
            kind: VirtualService
            metadata: {name: x}
            spec:
              hosts: [a.example.com]
              tls:
              - match: [{port: 443, sni_hosts: [a.example.com]}]
            """).Single();

        Assert.Equal(["a.example.com"], vs.Spec.Tls[0].Match[0].SniHosts);
    }

    [Fact]
    public void Read_MeshConfigMap_ReadsOutboundPolicyFromMeshKey()
    {
        var mesh = Assert.IsType<MeshConfig>(ManifestReader.Read("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: istio, namespace: istio-system}
            data:
              mesh: |-
                rootNamespace: istio-config
                outboundTrafficPolicy:
                  mode: REGISTRY_ONLY
            """).Single());

        Assert.Equal(OutboundPolicies.RegistryOnly, mesh.EffectiveOutboundPolicy);
        Assert.Equal("istio-config", mesh.EffectiveRootNamespace);
    }

    [Fact]
    public void Read_OtherConfigMaps_AreSkipped()
    {
        var objects = ManifestReader.Read("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: istio-ca-root-cert, namespace: default}
            data: {root-cert.pem: x}
            """);

        Assert.Empty(objects);
    }

    [Theory]
    [InlineData("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  meshConfig:\n    outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n")]
    [InlineData("spec:\n  meshConfig:\n    outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n")]
    [InlineData("outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n")]
    public void Read_IstioOperatorAndMeshConfigFragments_GiveMeshConfig(string yaml)
    {
        var mesh = Assert.IsType<MeshConfig>(ManifestReader.Read(yaml).Single());

        Assert.Equal(OutboundPolicies.RegistryOnly, mesh.EffectiveOutboundPolicy);
    }

    [Fact]
    public void Read_WrongType_NamesObjectFieldAndLine()
    {
        var ex = Assert.Throws<ManifestException>(() => ManifestReader.Read("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: a}
            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: gw}
            spec:
              servers: [{port: {number: [1]}}]
            """));

        Assert.Equal(5, ex.Line);
        Assert.Contains("Gateway gw: spec.servers[0].port.number", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a: [unclosed\n")]
    [InlineData("a: b\n a: c\n")]
    [InlineData("key: value\nkey: again\n")]
    [InlineData("- 1\n- 2\n")]
    public void Read_SyntaxErrorsAndNonMappings_ThrowManifestException(string yaml)
    {
        Assert.Throws<ManifestException>(() => ManifestReader.Read(yaml));
    }

    [Fact]
    public void Decode_AdmissionJsonAndYaml_GiveEqualObjects()
    {
        var yaml = """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: dr, namespace: team}
            spec:
              host: istio-egressgateway.istio-system.svc.cluster.local
              subsets: [{name: cnn}]
            """;
        using var json = JsonDocument.Parse("""
            {"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"dr","namespace":"team"},
             "spec":{"host":"istio-egressgateway.istio-system.svc.cluster.local","subsets":[{"name":"cnn"}]}}
            """);

        var fromYaml = (DestinationRule)ManifestReader.Read(yaml).Single();
        var fromJson = (DestinationRule)ObjectDecoder.Decode(json.RootElement, "other")!;

        Assert.Equal(fromYaml.Ref, fromJson.Ref);
        Assert.Equal(fromYaml.Spec.Host, fromJson.Spec.Host);
        Assert.Equal(fromYaml.Spec.Subsets.Single().Name, fromJson.Spec.Subsets.Single().Name);
    }
}
