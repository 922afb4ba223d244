using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Policy;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules;

/// <summary>What a rule sees: the view, the policy, the shared Istio semantics, and where findings go.</summary>
public sealed class RuleContext(SnapshotView view, RuleSettings policy)
{
    private readonly List<Finding> _findings = [];
    private readonly FindingCap _cap = new();

    public SnapshotView View { get; } = view;

    public RuleSettings Policy { get; } = policy;

    public MeshConfig Mesh => View.Mesh;

    /// <summary>The findings reported, at most <see cref="FindingCap.PerRuleAndObject"/> per rule and object, each
    /// rule and object with more followed by one summary finding that counts the rest.</summary>
    internal IReadOnlyList<Finding> Findings => _cap.HasOverflow ? [.. _findings, .. _cap.Summaries()] : _findings;

    internal void Clear()
    {
        _findings.Clear();
        _cap.Clear();
    }

    /// <summary>Whether <paramref name="rule"/> has reported its <see cref="FindingCap.PerRuleAndObject"/> findings
    /// about <paramref name="subject"/> already: further findings are only counted, so a rule may report them with a
    /// cheap message (or stop, when it needs no count).</summary>
    public bool IsCapped(string rule, EgressObject subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        return _cap.IsFull(rule, RefOf(subject));
    }

    private EgressObject? _lastSubject;
    private ObjectRef? _lastRef;

    /// <summary><paramref name="subject"/>'s <see cref="EgressObject.Ref"/>, made once while a rule reports about it in a
    /// row (objects are immutable; a rule may count 150,000 findings past the cap about one object).</summary>
    private ObjectRef RefOf(EgressObject subject)
    {
        if (!ReferenceEquals(subject, _lastSubject))
        {
            (_lastSubject, _lastRef) = (subject, subject.Ref);
        }

        return _lastRef!;
    }

    // Route rules and destinations of the VirtualServices this check reads, computed once each: rules look at the same
    // legs from several sides. Keyed by instance (objects are immutable) and dropped with the context, after the check.
    private Dictionary<VirtualService, IReadOnlyList<DestinationRef>>? _destinations;
    private Dictionary<VirtualService, IReadOnlyList<RouteRule>>? _routeRules;

    /// <summary><see cref="RouteDestinations.Of"/>, once per VirtualService for the life of this context.</summary>
    public IReadOnlyList<DestinationRef> DestinationsOf(VirtualService vs)
    {
        _destinations ??= new Dictionary<VirtualService, IReadOnlyList<DestinationRef>>(ReferenceEqualityComparer.Instance);
        if (!_destinations.TryGetValue(vs, out var result))
        {
            _destinations[vs] = result = RouteDestinations.Of(vs);
        }

        return result;
    }

    /// <summary><see cref="RouteRules.Of(VirtualService)"/>, once per VirtualService for the life of this context.</summary>
    public IReadOnlyList<RouteRule> RouteRulesOf(VirtualService vs)
    {
        _routeRules ??= new Dictionary<VirtualService, IReadOnlyList<RouteRule>>(ReferenceEqualityComparer.Instance);
        if (!_routeRules.TryGetValue(vs, out var result))
        {
            _routeRules[vs] = result = RouteRules.Of(vs, DestinationsOf(vs));
        }

        return result;
    }

    // Leg scopes per gateway list (by reference: RouteDestinations shares one list among the destinations of a rule, and
    // the VirtualService's own list among its rules) and the namespace of the VirtualService they belong to.
    private Dictionary<IReadOnlyList<string>, (string Namespace, IReadOnlyList<LegScope> Scopes)>? _scopes;

    /// <summary>The scopes of <paramref name="gateways"/> for a VirtualService of <paramref name="vsNamespace"/>, if
    /// <see cref="CacheScopes"/> kept them for the life of this context.</summary>
    internal bool TryGetCachedScopes(string vsNamespace, IReadOnlyList<string> gateways, out IReadOnlyList<LegScope> scopes)
    {
        if (_scopes is not null && _scopes.TryGetValue(gateways, out var cached) && cached.Namespace == vsNamespace)
        {
            scopes = cached.Scopes;
            return true;
        }

        scopes = [];
        return false;
    }

    /// <summary>Keeps the scopes of <paramref name="gateways"/> (by reference) for a VirtualService of <paramref name="vsNamespace"/>.</summary>
    internal void CacheScopes(string vsNamespace, IReadOnlyList<string> gateways, IReadOnlyList<LegScope> scopes)
    {
        _scopes ??= new Dictionary<IReadOnlyList<string>, (string, IReadOnlyList<LegScope>)>(ReferenceEqualityComparer.Instance);
        _scopes[gateways] = (vsNamespace, scopes);
    }

    // what a destination host resolves to, per client namespace and Sidecar scoping (ServiceRegistry.ResolveDestination)
    private Dictionary<(string Host, string ClientNamespace, bool SidecarScoped), RegistryTargets>? _targets;

    /// <summary>What <paramref name="host"/> resolves to for the client, if <see cref="CacheTargets"/> kept it.</summary>
    internal bool TryGetCachedTargets(string host, string clientNamespace, bool sidecarScoped, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RegistryTargets? targets)
    {
        targets = null;
        return _targets is not null && _targets.TryGetValue((host, clientNamespace, sidecarScoped), out targets);
    }

    /// <summary>Keeps what <paramref name="host"/> resolves to for the client, for the life of this context.</summary>
    internal void CacheTargets(string host, string clientNamespace, bool sidecarScoped, RegistryTargets targets)
    {
        _targets ??= [];
        _targets[(host, clientNamespace, sidecarScoped)] = targets;
    }

    private Dictionary<IReadOnlyList<string>, IReadOnlyList<(string Ref, Gateway Gateway)>>? _existingGatewayRefs;

    /// <summary>The existing Gateways among resolved references (<c>mesh</c> and missing ones skipped), in order, each with
    /// the reference it was found by (its <c>ns/name</c>, so that a rule asking about it by reference formats none),
    /// once per list (by reference) for the life of this context.</summary>
    internal IReadOnlyList<(string Ref, Gateway Gateway)> ExistingGatewayRefs(IReadOnlyList<string> resolvedRefs)
    {
        ArgumentNullException.ThrowIfNull(resolvedRefs);
        _existingGatewayRefs ??= new Dictionary<IReadOnlyList<string>, IReadOnlyList<(string, Gateway)>>(ReferenceEqualityComparer.Instance);
        if (!_existingGatewayRefs.TryGetValue(resolvedRefs, out var result))
        {
            var list = new List<(string, Gateway)>();
            for (var i = 0; i < resolvedRefs.Count; i++)
            {
                var r = resolvedRefs[i];
                if (r != GatewayRefs.Mesh && View.Gateway(r) is { } gw)
                {
                    list.Add((r, gw));
                }
            }

            _existingGatewayRefs[resolvedRefs] = result = list;
        }

        return result;
    }

    /// <summary>Whether a finding of <paramref name="rule"/> about <paramref name="subject"/> at <paramref name="severity"/>
    /// (before the policy's override) would only be counted, and what it awaits matter only for being null or not: a rule
    /// may then report it with <see cref="CountedAwaits"/> instead of making its <see cref="Awaited"/>.</summary>
    internal bool CountsOnly(string rule, Severity severity, EgressObject subject) =>
        Policy.Apply(rule, severity) is not { } effective || _cap.CountsOnly(rule, RefOf(subject), effective);

    /// <summary>Stands for the <see cref="Awaited"/> of a finding that <see cref="CountsOnly"/> says is only counted: it is
    /// never kept.</summary>
    internal static Awaited CountedAwaits { get; } = new(ResourceKind.ServiceEntry, "(counted)");

    /// <summary>Adds a finding (a contradiction), applying the policy's enforcement override and clamping the headline.</summary>
    public void Report(string rule, Severity severity, EgressObject subject, string path, string message, params IEnumerable<ObjectRef> related) =>
        Report(null, rule, severity, subject, path, message, related);

    /// <summary>Adds a finding that is an incompleteness when <paramref name="awaits"/> is set: it rests on that missing
    /// object, which a later write of the same apply may create (admission warns and re-checks instead of denying).</summary>
    public void Report(Awaited? awaits, string rule, Severity severity, EgressObject subject, string path, string message, params IEnumerable<ObjectRef> related)
    {
        if (Policy.Apply(rule, severity) is not { } effective)
        {
            return;
        }

        if (!_cap.Admit(rule, effective, RefOf(subject), path, awaits))
        {
            return;
        }

        var rel = related.Where(r => r != subject.Ref).Distinct().Order().ToArray();
        _findings.Add(new Finding(rule, effective, subject.Ref, path, Finding.Clamp(message), rel) { Awaits = awaits });
    }

    private PolicySet? _policies;

    /// <summary>The EgressPolicies of the view (built on first use, once per context).</summary>
    public PolicySet Policies => _policies ??= PolicySet.Of(View);

    /// <summary>Adds a guardrail finding of <paramref name="policy"/>: severity from its action (Deny an error, Warn and
    /// Audit a warning, Audit marked recorded-only), then the rule settings' override; the policy is named on the finding.</summary>
    public void ReportPolicy(EgressPolicy policy, Awaited? awaits, string rule, EgressObject subject, string path, string message, Severity? cap = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(subject);
        var severity = PolicySet.SeverityOf(policy);
        if (cap is { } max && severity > max)
        {
            severity = max;
        }

        if (Policy.Apply(rule, severity) is not { } effective)
        {
            return;
        }

        // an explicit per-rule setting (deny, warn) wins over the policy's Audit
        var audit = !Policy.Overrides.ContainsKey(rule) && PolicySet.IsAudit(policy);
        _findings.Add(new Finding(rule, effective, subject.Ref, path, Finding.Clamp(message), [new ObjectRef(policy.KindName, "", policy.Name)])
        {
            Awaits = awaits,
            Policy = policy.Name,
            Audit = audit,
        });
    }

    /// <summary>The outbound traffic mode for sidecars in <paramref name="clientNamespace"/>: its namespace-wide
    /// Sidecar, else the root namespace's, else the policy override, else the mesh config.</summary>
    public string OutboundPolicyFor(string clientNamespace)
    {
        var sidecar = ScopingSidecar(clientNamespace);
        return OutboundPolicies.Parse(sidecar?.Spec.OutboundTrafficPolicy?.Mode)
               ?? OutboundPolicies.Parse(Policy.OutboundPolicy)
               ?? Mesh.EffectiveOutboundPolicy;
    }

    /// <summary>The mesh-wide outbound mode (policy override, else mesh config), for gateway workloads.</summary>
    public string MeshOutboundPolicy => OutboundPolicies.Parse(Policy.OutboundPolicy) ?? Mesh.EffectiveOutboundPolicy;

    /// <summary>Whether a missing object of <paramref name="kind"/> is evidence of absence: always for the whole
    /// cluster; for other input only when it holds some object of the kind (partial manifests may leave a kind out).</summary>
    public bool AbsenceIsEvidence(ResourceKind kind) => Policy.WholeCluster || View.HasAny(kind);

    /// <summary>ServiceEntries matching <paramref name="host"/> that <paramref name="clientNamespace"/> can see
    /// (exportTo), and, when <paramref name="sidecarScoped"/>, that its Sidecar's egress hosts let it reach.</summary>
    public List<HostMatch<ServiceEntry>> VisibleServiceEntries(string host, string clientNamespace, bool sidecarScoped)
    {
        var result = View.ServiceEntries(host);
        // in place, without a predicate capturing the client
        var kept = 0;
        for (var i = 0; i < result.Count; i++)
        {
            if (IsVisibleEntry(result[i], clientNamespace, sidecarScoped))
            {
                result[kept++] = result[i];
            }
        }

        result.RemoveRange(kept, result.Count - kept);
        return result;
    }

    /// <summary>Whether a match of <see cref="VisibleServiceEntries"/> is kept: exported to <paramref name="clientNamespace"/>
    /// and, when <paramref name="sidecarScoped"/>, let through by its Sidecar's egress hosts.</summary>
    internal bool IsVisibleEntry(HostMatch<ServiceEntry> m, string clientNamespace, bool sidecarScoped) =>
        IsExported(m.Item, clientNamespace) && (!sidecarScoped || SidecarAllows(clientNamespace, m.Item.Namespace, m.Host));

    /// <summary>Whether <paramref name="entry"/>'s exportTo lets <paramref name="clientNamespace"/> see it, capped by
    /// the mesh's <c>serviceEntryVisibility</c> when that applies to sidecars and gateways (<see cref="VisibilityOf"/>).</summary>
    public bool IsExported(ServiceEntry entry, string clientNamespace) =>
        ExportTo.IsVisible(entry.Spec.ExportTo, entry.Namespace, clientNamespace, Mesh.DefaultServiceExportTo) &&
        ServiceEntryVisibility.Allows(VisibilityOf(entry), entry.Namespace, clientNamespace);

    /// <summary>The visibility Istio 1.31's <c>meshConfig.serviceEntryVisibility</c> resolves for <paramref name="entry"/>
    /// as Envoy proxies (sidecars and gateways) see it: the first policy whose rules all match the labels of the
    /// entry's namespace, else the default. Without <c>applyToSidecars</c> only the ambient data plane honours it, and
    /// the entry is PUBLIC here (exportTo alone decides; <see cref="ServiceEntryVisibility.ForSidecars"/>).</summary>
    public string VisibilityOf(ServiceEntry entry) => ServiceEntryVisibility.ForSidecars(entry, View);

    private Dictionary<Gateway, string>? _gatewayNamespaces;

    /// <summary>The namespace the workload of <paramref name="gateway"/> runs in, which every leg bound to it is judged
    /// from (the catalogue's "What a gateway sees"): the namespace of the pods its selector picks, offline that of the
    /// Services whose selector contains it (the first by namespace when several namespaces have one); when the view
    /// holds no such Service, the Gateway's own namespace.</summary>
    public string GatewayNamespace(Gateway gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        _gatewayNamespaces ??= new Dictionary<Gateway, string>(ReferenceEqualityComparer.Instance);
        if (!_gatewayNamespaces.TryGetValue(gateway, out var ns))
        {
            string? first = null;
            foreach (var svc in View.ServicesSelecting(gateway.Spec.Selector))
            {
                if (first is null || string.CompareOrdinal(svc.Namespace, first) < 0)
                {
                    first = svc.Namespace;
                }
            }

            _gatewayNamespaces[gateway] = ns = first ?? gateway.Namespace;
        }

        return ns;
    }

    /// <summary>Whether <paramref name="vs"/>'s exportTo (else the mesh's <c>defaultVirtualServiceExportTo</c>) reaches
    /// <paramref name="ns"/>: a gateway only loads the VirtualServices bound to it that are exported to its namespace.</summary>
    public bool IsExportedTo(VirtualService vs, string ns) =>
        ExportTo.IsVisible(vs.Spec.ExportTo, vs.Namespace, ns, Mesh.DefaultVirtualServiceExportTo);

    /// <summary>Kubernetes Services matching <paramref name="host"/> visible to <paramref name="clientNamespace"/>.</summary>
    public List<HostMatch<Service>> VisibleServices(string host, string clientNamespace, bool sidecarScoped)
    {
        var result = View.Services(host);
        // in place, without a predicate capturing the client
        var kept = 0;
        for (var i = 0; i < result.Count; i++)
        {
            if (IsVisibleService(result[i], clientNamespace, sidecarScoped))
            {
                result[kept++] = result[i];
            }
        }

        result.RemoveRange(kept, result.Count - kept);
        return result;
    }

    /// <summary>Whether a match of <see cref="VisibleServices"/> is kept: exported to <paramref name="clientNamespace"/>
    /// and, when <paramref name="sidecarScoped"/>, let through by its Sidecar's egress hosts.</summary>
    internal bool IsVisibleService(HostMatch<Service> m, string clientNamespace, bool sidecarScoped) =>
        ExportTo.IsVisible(ExportTo.OfService(m.Item), m.Item.Namespace, clientNamespace, Mesh.DefaultServiceExportTo) &&
        (!sidecarScoped || SidecarAllows(clientNamespace, m.Item.Namespace, m.Host));

    /// <summary>The Sidecar that scopes the sidecars of <paramref name="clientNamespace"/>: its namespace-wide one (no
    /// <c>workloadSelector</c>), else the root namespace's. The one home of this choice (outbound policy, egress hosts, EGW101, planned routing).</summary>
    public Sidecar? ScopingSidecar(string clientNamespace) => View.DefaultSidecar(clientNamespace) ?? View.DefaultSidecar(Mesh.EffectiveRootNamespace);

    /// <summary>Whether the namespace-wide Sidecar of <paramref name="clientNamespace"/> (else the root
    /// namespace's) lets its sidecars reach <paramref name="host"/> declared in <paramref name="serviceNamespace"/>.
    /// No Sidecar, or one without egress listeners, allows everything.</summary>
    public bool SidecarAllows(string clientNamespace, string serviceNamespace, string host)
    {
        var sidecar = ScopingSidecar(clientNamespace);
        if (sidecar is null || sidecar.Spec.Egress.Count == 0)
        {
            return true;
        }

        foreach (var listener in sidecar.Spec.Egress)
        {
            foreach (var entry in listener.Hosts)
            {
                var (nsPart, hostPart) = NamespacedHost.Split(entry);
                var nsOk = nsPart == "*" || nsPart == serviceNamespace || (nsPart == "." && serviceNamespace == sidecar.Namespace);
                if (nsPart != "~" && nsOk && HostName.Matches(hostPart, host))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>DestinationRules for <paramref name="host"/> on the lookup path of <paramref name="clientNamespace"/>:
    /// the client's namespace, else the host's own namespace (that of a cluster-local host, and that of each
    /// ServiceEntry visible to the client that declares the host: Istio's service namespace), else the root
    /// namespace; each honouring exportTo. The first namespace with a match wins. When the client is the root
    /// namespace (a gateway running there), Istio's order is: the root namespace's private rules (<c>exportTo: ["."]</c>),
    /// then those exported from the host's namespaces, then the root namespace's exported ones (<c>PushContext.destinationRule</c>).</summary>
    public List<DestinationRule> DestinationRulesOnLookupPath(string host, string clientNamespace)
    {
        var root = Mesh.EffectiveRootNamespace;
        var hostNamespaces = new List<string>(3);
        if (HostName.NamespaceOf(host) is { } hostNamespace)
        {
            hostNamespaces.Add(hostNamespace);
        }

        foreach (var m in VisibleServiceEntries(host, clientNamespace, false))
        {
            if (HostName.SubsetOf(host, m.Host) && !hostNamespaces.Contains(m.Item.Namespace))
            {
                hostNamespaces.Add(m.Item.Namespace);
            }
        }

        if (clientNamespace == root)
        {
            var found = Visible(root, dr => IsPrivate(dr));
            foreach (var ns in hostNamespaces)
            {
                if (found.Count > 0)
                {
                    return found;
                }

                if (ns != root)
                {
                    found = Visible(ns, static _ => true);
                }
            }

            return found.Count > 0 ? found : Visible(root, dr => !IsPrivate(dr));
        }

        foreach (var ns in hostNamespaces.Prepend(clientNamespace).Append(root).Distinct(StringComparer.Ordinal))
        {
            var found = Visible(ns, static _ => true);
            if (found.Count > 0)
            {
                return found;
            }
        }

        return [];

        List<DestinationRule> Visible(string ns, Func<DestinationRule, bool> which) =>
            View.DestinationRulesIn(ns, host)
                .Where(m => which(m.Item) && ExportTo.IsVisible(m.Item.Spec.ExportTo, ns, clientNamespace, Mesh.DefaultDestinationRuleExportTo))
                .Select(m => m.Item).Distinct().ToList();

        bool IsPrivate(DestinationRule dr)
        {
            var list = dr.Spec.ExportTo.Count > 0 ? dr.Spec.ExportTo : Mesh.DefaultDestinationRuleExportTo;
            return list.Count > 0 && list.All(e => e == "." || e == dr.Namespace);
        }
    }

    private Dictionary<(string Host, string ClientNamespace), IReadOnlyList<DestinationRule>>? _lookupPaths;

    /// <summary><see cref="DestinationRulesOnLookupPath"/>, once per host and client namespace for the life of this
    /// context (every destination to a host with a subset asks it, from every namespace the VirtualService reaches).</summary>
    internal IReadOnlyList<DestinationRule> LookupPath(string host, string clientNamespace)
    {
        _lookupPaths ??= [];
        if (!_lookupPaths.TryGetValue((host, clientNamespace), out var result))
        {
            _lookupPaths[(host, clientNamespace)] = result = DestinationRulesOnLookupPath(host, clientNamespace);
        }

        return result;
    }

    /// <summary>Whether an object carries the managed-by label of objects this project generates.</summary>
    public static bool IsGenerated(EgressObject obj) =>
        obj.Metadata.Labels.TryGetValue(ManagedBy.Label, out var v) && v == ManagedBy.Value;
}

/// <summary>The label on objects the project generates.</summary>
public static class ManagedBy
{
    public const string Label = "app.kubernetes.io/managed-by";
    public const string Value = "egress-webhook";

    /// <summary>The ServiceEntry owner of an object the generator made (the generated-object label and a ServiceEntry
    /// in <c>metadata.ownerReferences</c>), or null: rendered objects (no owner) and everyone else's.</summary>
    public static OwnerReference? ServiceEntryOwner(EgressObject obj) =>
        RuleContext.IsGenerated(obj) ? obj.Metadata.OwnerReferences.FirstOrDefault(o => o.Kind == "ServiceEntry" && !string.IsNullOrEmpty(o.Name)) : null;
}
