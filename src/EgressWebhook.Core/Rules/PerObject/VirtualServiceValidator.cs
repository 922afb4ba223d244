using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using FluentValidation;

namespace EgressWebhook.Core.Rules.PerObject;

/// <summary>Single-object checks of a VirtualService: EGW207 (TLS routes must match on SNI hosts the
/// VirtualService owns).</summary>
/// <remarks>A <c>tls</c> rule is selected by SNI: without a match, or a match without <c>sniHosts</c>, it can never
/// apply, and an SNI host outside the VirtualService's <c>hosts</c> is not routed by it. Istio rejects all three.
/// Host names are resolved in the VirtualService's namespace before <see cref="HostName.SubsetOf"/>
/// (a short name <c>foo</c> is <c>foo.&lt;ns&gt;.svc.cluster.local</c> on both sides). An SNI host that is an IP
/// address is only a warning in Istio and is not checked here.</remarks>
internal sealed class VirtualServiceValidator : AbstractValidator<VirtualService>
{
    public VirtualServiceValidator()
    {
        RuleFor(vs => vs).Custom((vs, context) =>
        {
            // only tls rules are judged
            if (vs.Spec.Tls.Count == 0)
            {
                return;
            }

            // "~" list items decode to null and are skipped
            var written = new List<string>(vs.Spec.Hosts.Count);
            var resolvedHosts = new List<string>(vs.Spec.Hosts.Count);
            for (var i = 0; i < vs.Spec.Hosts.Count; i++)
            {
                var h = vs.Spec.Hosts[i];
                if (h is not null)
                {
                    written.Add(h);
                    resolvedHosts.Add(HostName.Resolve(h, vs.Namespace));
                }
            }

            var hosts = new HostCover(resolvedHosts);

            // the text of a finding, made only for one
            string ShownHosts() => written.Count == 0 ? "none" : Failures.List(written);
            for (var i = 0; i < vs.Spec.Tls.Count; i++)
            {
                if (vs.Spec.Tls[i] is not { } rule)
                {
                    continue;
                }

                if (rule.Match.Count == 0)
                {
                    if (Failures.Admits(context, RuleIds.TlsRouteMatch, "Spec.Tls"))
                    {
                        context.AddFailure(Failures.Error(RuleIds.TlsRouteMatch, $"Spec.Tls[{i}].Match",
                            $"tls rule has no match, so it never applies; add a match with sniHosts from the hosts ({ShownHosts()})"));
                    }

                    continue;
                }

                for (var j = 0; j < rule.Match.Count; j++)
                {
                    if (rule.Match[j] is not { } match)
                    {
                        continue;
                    }

                    if (match.SniHosts.Count == 0)
                    {
                        if (Failures.Admits(context, RuleIds.TlsRouteMatch, "Spec.Tls"))
                        {
                            context.AddFailure(Failures.Error(RuleIds.TlsRouteMatch, $"Spec.Tls[{i}].Match[{j}].SniHosts",
                                $"tls match has no sniHosts, so it never applies; add sniHosts from the hosts ({ShownHosts()})"));
                        }

                        continue;
                    }

                    for (var k = 0; k < match.SniHosts.Count; k++)
                    {
                        if (match.SniHosts[k] is not { } sni || IpAddresses.IsIp(sni))
                        {
                            continue;
                        }

                        var resolved = HostName.Resolve(sni, vs.Namespace);
                        if (!hosts.Covers(resolved))
                        {
                            if (Failures.Admits(context, RuleIds.TlsRouteMatch, "Spec.Tls"))
                            {
                                context.AddFailure(Failures.Error(RuleIds.TlsRouteMatch, $"Spec.Tls[{i}].Match[{j}].SniHosts[{k}]",
                                    $"sniHost {sni} is not within the VirtualService hosts ({ShownHosts()}); add it to hosts or fix the SNI"));
                            }
                        }
                    }
                }
            }
        });
    }
}
