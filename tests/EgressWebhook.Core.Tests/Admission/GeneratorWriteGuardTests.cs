using System.Text.Json;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Admission;

/// <summary>The webhook's own ServiceAccount may write only the routing planned for an opted-in ServiceEntry.</summary>
public sealed class GeneratorWriteGuardTests
{
    private const string Generator = "system:serviceaccount:egress-webhook:egress-webhook";
    private static readonly GatewayServiceRef EgressGateway = new("istio-system", "istio-egressgateway");

    private static ServiceEntry OptedIn(bool optedIn = true)
    {
        var cnn = Seed.Objects().OfType<ServiceEntry>().Single(se => se.Name == "cnn");
        return cnn with
        {
            Metadata = cnn.Metadata with
            {
                Uid = "se-uid-1",
                Annotations = optedIn ? new Dictionary<string, string> { [RoutingAnnotations.Gateway] = EgressGateway.ToString() } : new Dictionary<string, string>(),
            },
        };
    }

    private static EgressSnapshot State(ServiceEntry entry, params EgressObject[] others) =>
        EgressSnapshot.Create([entry, Seed.Objects().OfType<Service>().Single(), .. others]);

    private static IReadOnlyList<EgressObject> Planned(ServiceEntry entry, EgressSnapshot state) =>
        RoutingPlanner.Plan(entry, EgressGateway, SnapshotView.Of(state)).Objects;

    private static AdmissionRequest Request(string operation, string user, JsonNode? obj, JsonNode? old = null)
    {
        var subject = (obj ?? old)!;
        return new AdmissionRequest
        {
            Uid = "u",
            Kind = new GroupVersionKind { Group = "networking.istio.io", Version = "v1", Kind = subject["kind"]!.GetValue<string>() },
            Operation = operation,
            Namespace = "default",
            Name = subject["metadata"]!["name"]!.GetValue<string>(),
            UserInfo = new UserInfo { Username = user },
            Object = obj is null ? null : JsonSerializer.SerializeToElement(obj),
            OldObject = old is null ? null : JsonSerializer.SerializeToElement(old),
        };
    }

    private static JsonObject Json(EgressObject o)
    {
        var json = ManifestWriter.ToJson(o);
        json["metadata"]!["uid"] = "obj-uid";
        return json;
    }

    private static string? Refusal(AdmissionRequest request, EgressSnapshot state) =>
        GeneratorWriteGuard.Check(request, Generator, state, MutationPolicy.Default) is { } d ? Assert.IsType<string>(d.Response.Status!.Message) : null;

    [Fact]
    public void PlannedObjects_CreatedUpdatedDeletedByTheGenerator_Allowed()
    {
        var entry = OptedIn();
        var state = State(entry);
        var planned = Planned(entry, state);
        Assert.Equal(4, planned.Count);

        foreach (var o in planned)
        {
            Assert.Null(Refusal(Request("CREATE", Generator, Json(o)), state));
            Assert.Null(Refusal(Request("UPDATE", Generator, Json(o), Json(o)), state));
            Assert.Null(Refusal(Request("DELETE", Generator, null, Json(o)), state));
        }
    }

    [Fact]
    public void SomeoneElse_NeverLookedAt()
    {
        var entry = OptedIn();
        var state = State(entry);
        var vs = Json(Planned(entry, state).OfType<VirtualService>().First());
        vs["spec"]!["hosts"] = new JsonArray("bank.example.com");

        Assert.Null(GeneratorWriteGuard.Check(Request("CREATE", "jane", vs), Generator, state, MutationPolicy.Default));
        Assert.Null(GeneratorWriteGuard.Check(Request("CREATE", Generator, vs), null, state, MutationPolicy.Default));
    }

    [Fact]
    public void GeneratedLookalike_WithAnotherSpec_Refused()
    {
        // the label and the owner reference of a planned object, but routing for another host
        var entry = OptedIn();
        var state = State(entry);
        var vs = Json(Planned(entry, state).OfType<VirtualService>().First());
        vs["spec"]!["hosts"] = new JsonArray("bank.example.com");

        Assert.Contains("spec differs from the routing planned for ServiceEntry default/cnn", Refusal(Request("CREATE", Generator, vs), state), StringComparison.Ordinal);
    }

    [Fact]
    public void PlannedObject_WithAFieldTheModelDoesNotRead_Refused()
    {
        // a connection pool is not part of the decoded model: only the spec as written shows the injection
        var entry = OptedIn();
        var state = State(entry);
        var dr = Json(Planned(entry, state).OfType<DestinationRule>().Single());
        var policy = dr["spec"]!["trafficPolicy"] as JsonObject ?? new JsonObject();
        dr["spec"]!["trafficPolicy"] = policy;
        policy["connectionPool"] = new JsonObject { ["tcp"] = new JsonObject { ["maxConnections"] = 1 } };
        var decoded = ObjectDecoder.Decode(JsonSerializer.SerializeToElement(dr), "default")!;
        Assert.True(JsonNode.DeepEquals(ManifestWriter.ToJson(Planned(entry, state).OfType<DestinationRule>().Single())["spec"], ManifestWriter.ToJson(decoded)["spec"]),
            "decoded, the injected spec looks like the planned one");

        Assert.Contains("DestinationRule default/cnn-egress: spec differs from the routing planned for ServiceEntry default/cnn",
            Refusal(Request("CREATE", Generator, dr), state), StringComparison.Ordinal);
    }

    [Fact]
    public void EntryThatLostAnEgw405Conflict_ItsPlannedObjects_Refused_TheWinnersAllowed()
    {
        // two opted-in entries for edition.cnn.com: default/cnn is planned first and gets the routing, default/cnn2 none
        var winner = OptedIn();
        var loser = winner with { Metadata = winner.Metadata with { Name = "cnn2", Uid = "se-uid-2" } };
        var state = State(winner, loser);
        var lost = Planned(loser, state);
        Assert.NotEmpty(lost);

        foreach (var o in lost)
        {
            var refusal = Refusal(Request("CREATE", Generator, Json(o)), state);
            Assert.Contains("is not part of the routing planned for ServiceEntry default/cnn2, which gets none (EGW405: ServiceEntry default/cnn gets", refusal, StringComparison.Ordinal);
        }

        foreach (var o in Planned(winner, state))
        {
            Assert.Null(Refusal(Request("CREATE", Generator, Json(o)), state));
        }
    }

    [Fact]
    public void GeneratedLookalike_WithANameNotPlanned_Refused()
    {
        var entry = OptedIn();
        var state = State(entry);
        var vs = Json(Planned(entry, state).OfType<VirtualService>().First());
        vs["metadata"]!["name"] = "reroute";

        Assert.Contains("VirtualService default/reroute is not part of the routing planned for ServiceEntry default/cnn", Refusal(Request("CREATE", Generator, vs), state), StringComparison.Ordinal);
    }

    [Fact]
    public void NoLabel_OrAnUnknownOwner_OrAnEntryNotOptedIn_Refused()
    {
        var entry = OptedIn();
        var state = State(entry);
        var dr = Json(Planned(entry, state).OfType<DestinationRule>().Single());

        var unlabelled = dr.DeepClone().AsObject();
        unlabelled["metadata"]!.AsObject().Remove("labels");
        Assert.Contains("is not marked as generated (metadata.labels app.kubernetes.io/managed-by", Refusal(Request("CREATE", Generator, unlabelled), state), StringComparison.Ordinal);

        var stranger = dr.DeepClone().AsObject();
        stranger["metadata"]!["ownerReferences"]![0]!["uid"] = "someone-else";
        Assert.Contains("names ServiceEntry default/cnn as its owner (metadata.ownerReferences), which is not known with that uid", Refusal(Request("CREATE", Generator, stranger), state), StringComparison.Ordinal);

        var notOptedIn = State(OptedIn(optedIn: false));
        Assert.Contains("ServiceEntry default/cnn, the owner of DestinationRule default/cnn-egress, is not opted in", Refusal(Request("CREATE", Generator, dr), notOptedIn), StringComparison.Ordinal);
    }

    [Fact]
    public void SomeoneElsesObject_NotTakenOverNorDeleted()
    {
        var entry = OptedIn();
        var state = State(entry);
        var planned = Json(Planned(entry, state).OfType<DestinationRule>().Single());
        var users = planned.DeepClone().AsObject();
        users["metadata"]!.AsObject().Remove("labels");
        users["metadata"]!.AsObject().Remove("ownerReferences");

        Assert.Contains("DestinationRule default/cnn-egress was not generated by it", Refusal(Request("UPDATE", Generator, planned, users), state), StringComparison.Ordinal);
        Assert.Contains("DestinationRule default/cnn-egress was not generated by it", Refusal(Request("DELETE", Generator, null, users), state), StringComparison.Ordinal);
        // a DELETE without oldObject: the stored object decides
        var stored = State(entry, ObjectDecoder.Decode(JsonSerializer.SerializeToElement(users), "default")!);
        var noOld = Request("DELETE", Generator, null, users) with { OldObject = null };
        Assert.NotNull(Refusal(noOld, stored));
    }

    [Fact]
    public void OtherKinds_Refused_WithA403()
    {
        var entry = OptedIn();
        var state = State(entry);
        var decision = GeneratorWriteGuard.Check(Request("UPDATE", Generator, ManifestWriter.ToJson(entry), ManifestWriter.ToJson(entry)), Generator, state, MutationPolicy.Default);

        Assert.NotNull(decision);
        Assert.False(decision.Allowed);
        Assert.Equal(403, decision.Response.Status!.Code);
        Assert.Equal(AdmissionOutcome.Denied, decision.Outcome);
        Assert.Equal($"{Generator} is the egress routing generator and may change only the routing it generates: it writes only Gateways, VirtualServices and DestinationRules, not ServiceEntry",
            decision.Response.Status.Message);
    }
}
