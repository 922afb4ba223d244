using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Mutation;

public sealed class RoutingReconcilerTests
{
    private static readonly MutationPolicy Policy = new() { DefaultGateway = "istio-system/istio-egressgateway" };

    private static ServiceEntry Cnn(string name, string uid) => Seed.Objects().OfType<ServiceEntry>().Single(se => se.Name == "cnn") is var cnn
        ? cnn with { Metadata = cnn.Metadata with { Name = name, Uid = uid } }
        : null!;

    private static Service GatewayService() => Seed.Objects().OfType<Service>().Single();

    private static RoutingChanges Reconcile(params EgressObject[] objects) =>
        RoutingReconciler.Reconcile(SnapshotView.Of(EgressSnapshot.Create(objects)), Policy);

    [Fact]
    public void Reconcile_NewEntry_AppliesItsRouting()
    {
        var changes = Reconcile(Cnn("cnn", "u1"), GatewayService());

        Assert.Equal(4, changes.Apply.Count);
        Assert.Empty(changes.Delete);
    }

    [Fact]
    public void Reconcile_RoutingInPlace_ChangesNothing()
    {
        var first = Reconcile(Cnn("cnn", "u1"), GatewayService());

        var again = Reconcile([Cnn("cnn", "u1"), GatewayService(), .. first.Apply]);

        Assert.Empty(again.Apply);
        Assert.Empty(again.Delete);
    }

    [Fact]
    public void Reconcile_RoutingStoredAtAnotherServedVersion_ChangesNothing()
    {
        const string v1beta1 = "networking.istio.io/v1beta1";
        var first = Reconcile(Cnn("cnn", "u1"), GatewayService());
        var stored = first.Apply.Select(o => o with
        {
            ApiVersion = v1beta1,
            Metadata = o.Metadata with { OwnerReferences = [.. o.Metadata.OwnerReferences.Select(r => r with { ApiVersion = v1beta1 })] },
        });

        var again = Reconcile([Cnn("cnn", "u1"), GatewayService(), .. stored]);

        Assert.Empty(again.Apply);
        Assert.Empty(again.Delete);
    }

    [Fact]
    public void Reconcile_StoredRoutingChangedByHand_IsAppliedAgain()
    {
        var first = Reconcile(Cnn("cnn", "u1"), GatewayService());
        var edited = first.Apply.Select(o => o is Gateway gw ? gw with { Spec = gw.Spec with { Selector = new Dictionary<string, string> { ["istio"] = "ingressgateway" } } } : o);

        var again = Reconcile([Cnn("cnn", "u1"), GatewayService(), .. edited]);

        Assert.Equal(ResourceKind.Gateway, Assert.Single(again.Apply).ResourceKind);
    }

    [Fact]
    public void Reconcile_PlannedNameTakenByAUsersObject_LeavesTheEntryOutAndNeverTouchesIt()
    {
        var first = Reconcile(Cnn("cnn", "u1"), GatewayService());
        var planned = first.Apply.OfType<DestinationRule>().Single();
        // the user's own DestinationRule with the name the planner wants: no managed-by label, no owner
        var users = planned with { Metadata = new ObjectMeta { Name = planned.Name, Namespace = planned.Namespace } };

        var changes = Reconcile(Cnn("cnn", "u1"), GatewayService(), users);

        Assert.Empty(changes.Apply);
        Assert.Empty(changes.Delete);
        var notice = Assert.Single(Assert.Single(changes.Plans).Notices);
        Assert.Equal(RuleIds.RoutingSkippedConflictingRoute, notice.Rule);
        Assert.Contains(users.Ref, notice.Related);
    }

    [Fact]
    public void Reconcile_LabelsAndAnnotationsAddedByOthers_AreNotADifference()
    {
        var first = Reconcile(Cnn("cnn", "u1"), GatewayService());
        var decorated = first.Apply.Select(o => o with
        {
            Metadata = o.Metadata with
            {
                Labels = new Dictionary<string, string>(o.Metadata.Labels) { ["team"] = "payments" },
                Annotations = new Dictionary<string, string>(o.Metadata.Annotations) { ["argocd.argoproj.io/tracking-id"] = "x" },
            },
        });

        var again = Reconcile([Cnn("cnn", "u1"), GatewayService(), .. decorated]);

        Assert.Empty(again.Apply);
        Assert.Empty(again.Delete);
    }

    [Fact]
    public void Reconcile_EntryOptedOut_DeletesItsRouting()
    {
        var first = Reconcile(Cnn("cnn", "u1"), GatewayService());
        var optedOut = Cnn("cnn", "u1") is var e
            ? e with { Metadata = e.Metadata with { Annotations = new Dictionary<string, string> { [RoutingAnnotations.Routing] = "disabled" } } }
            : null!;

        var again = Reconcile([optedOut, GatewayService(), .. first.Apply]);

        Assert.Empty(again.Apply);
        Assert.Equal(first.Apply.Select(o => o.Ref).Order(), again.Delete.Select(o => o.Ref).Order());
    }

    [Fact]
    public void Reconcile_TwoNewEntriesForOneHost_RoutesOneAndWarnsTheOther()
    {
        var changes = Reconcile(Cnn("cnn-b", "u2"), Cnn("cnn-a", "u1"), GatewayService());

        Assert.Equal(1, changes.Apply.Count(o => o is Gateway));
        Assert.Equal("cnn-a-egress", changes.Apply.OfType<Gateway>().Single().Name);
        var loser = changes.Plans.Single(p => p.Entry.Name == "cnn-b");
        Assert.Equal(RuleIds.RoutingSkippedConflictingRoute, Assert.Single(loser.Notices).Rule);
    }

    [Fact]
    public void Reconcile_EntryOwningRouting_KeepsItWhenANewEntryForTheHostSortsFirst()
    {
        var owned = Reconcile(Cnn("cnn-b", "u2"), GatewayService());

        var again = Reconcile([Cnn("cnn-a", "u1"), Cnn("cnn-b", "u2"), GatewayService(), .. owned.Apply]);

        Assert.Empty(again.Apply);
        Assert.Empty(again.Delete);
        Assert.False(again.Plans.Single(p => p.Entry.Name == "cnn-a").Routed);
    }

    private static EgressObject Ambient(string ns) => ObjectDecoder.Decode(System.Text.Json.JsonSerializer.SerializeToElement(new System.Text.Json.Nodes.JsonObject
    {
        ["apiVersion"] = "v1", ["kind"] = "Namespace",
        ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["name"] = ns, ["labels"] = new System.Text.Json.Nodes.JsonObject { ["istio.io/dataplane-mode"] = "ambient" } },
    }), "default")!;

    private static EgressObject Waypoint(string ns, string name) => ObjectDecoder.Decode(System.Text.Json.JsonSerializer.SerializeToElement(System.Text.Json.Nodes.JsonNode.Parse(
        $$$"""{"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway","metadata":{"name":"{{{name}}}","namespace":"{{{ns}}}"},"spec":{"gatewayClassName":"istio-waypoint","listeners":[{"name":"mesh","port":15008,"protocol":"HBONE"}]}}""")), "default")!;

    [Fact]
    public void Reconcile_AmbientNamespace_GeneratesNoSidecarRouting_AndRemovesWhatWasGenerated()
    {
        var cnn = Cnn("cnn", "u1") with { Metadata = Cnn("cnn", "u1").Metadata with { Annotations = new Dictionary<string, string> { ["egress.istio.io/gateway"] = "default/egress-waypoint" } } };
        var sidecarMode = Reconcile(Cnn("cnn", "u1"), GatewayService());
        Assert.Equal(4, sidecarMode.Apply.Count);

        // the namespace turns ambient and the entry names its waypoint: ztunnel would ignore the legs, so they go
        var view = SnapshotView.Of(EgressSnapshot.Create([cnn, GatewayService(), Ambient("default"), Waypoint("default", "egress-waypoint"), .. sidecarMode.Apply]));
        var plan = Assert.Single(RoutingReconciler.PlanAll(view, Policy));
        Assert.Equal(new GatewayServiceRef("default", "egress-waypoint"), plan.Waypoint);
        Assert.Empty(plan.Objects);
        var ambient = RoutingReconciler.Reconcile(view, Policy);
        Assert.Empty(ambient.Apply);
        Assert.Equal(4, ambient.Delete.Count);
    }

    [Fact]
    public void PlanAll_AmbientNamespaceWithoutTheWaypoint_IsLeftOutWithEgw411()
    {
        var view = SnapshotView.Of(EgressSnapshot.Create([Cnn("cnn", "u1"), GatewayService(), Ambient("default")]));

        var plan = Assert.Single(RoutingReconciler.PlanAll(view, Policy));

        Assert.False(plan.Routed);
        Assert.Empty(plan.Objects);
        Assert.Equal(RuleIds.RoutingSkippedNoWaypoint, Assert.Single(plan.Notices).Rule);
    }
}
