using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Rules.PerObject;
using FluentValidation.TestHelper;

namespace EgressWebhook.Core.Tests.Rules.PerObject;

public sealed class VirtualServiceValidatorTests
{
    private readonly VirtualServiceValidator _validator = new();

    private static Model.VirtualService Tls(string hosts, string match, string ns = "default") => Yaml.VirtualService($$"""
        hosts: {{hosts}}
        tls:
        - {{match}}
          route:
          - destination: {host: edition.cnn.com}
        """, ns);

    [Fact]
    public void Validate_TlsRuleWithoutMatch_ReportsEgw207()
    {
        var vs = Tls("[edition.cnn.com]", "match: []");

        _validator.TestValidate(vs).ShouldHaveValidationErrorFor("Spec.Tls[0].Match").WithErrorCode(RuleIds.TlsRouteMatch);
    }

    [Fact]
    public void Validate_TlsMatchWithoutSniHosts_ReportsEgw207()
    {
        var vs = Tls("[edition.cnn.com]", "match: [{port: 443}]");

        _validator.TestValidate(vs).ShouldHaveValidationErrorFor("Spec.Tls[0].Match[0].SniHosts").WithErrorCode(RuleIds.TlsRouteMatch);
    }

    [Theory]
    [InlineData("[edition.cnn.com]", "[edition.cnn.com, www.cnn.com]")]
    [InlineData("['*.wikipedia.org']", "[en.wikipedia.org, wikipedia.org]")]
    [InlineData("[www.wikipedia.org]", "[en.wikipedia.org, '*.wikipedia.org']")]
    public void Validate_SniHostOutsideHosts_ReportsEgw207(string hosts, string sniHosts)
    {
        var vs = Tls(hosts, $"match: [{{port: 443, sniHosts: {sniHosts}}}]");

        var result = _validator.TestValidate(vs);

        result.ShouldHaveValidationErrorFor("Spec.Tls[0].Match[0].SniHosts[1]").WithErrorCode(RuleIds.TlsRouteMatch);
    }

    [Theory]
    [InlineData("[edition.cnn.com]", "[edition.cnn.com]", "default")]
    [InlineData("['*.wikipedia.org']", "['*.wikipedia.org', en.wikipedia.org, '*.de.wikipedia.org']", "default")]
    [InlineData("['*']", "[anything.example.com]", "default")]
    [InlineData("[my-nginx.mesh-external.svc.cluster.local]", "[my-nginx]", "mesh-external")]
    [InlineData("[my-nginx]", "[my-nginx.mesh-external.svc.cluster.local]", "mesh-external")]
    [InlineData("[edition.cnn.com]", "[10.0.0.1]", "default")]
    public void Validate_SniHostsWithinHosts_IsAccepted(string hosts, string sniHosts, string ns)
    {
        var vs = Tls(hosts, $"match: [{{port: 443, sniHosts: {sniHosts}}}]", ns);

        _validator.TestValidate(vs).ShouldNotHaveAnyValidationErrors();
    }

    [Fact]
    public void Validate_ShortSniHostInAnotherNamespace_ReportsEgw207()
    {
        var vs = Tls("[my-nginx.mesh-external.svc.cluster.local]", "match: [{sniHosts: [my-nginx]}]", "default");

        _validator.TestValidate(vs).ShouldHaveValidationErrorFor("Spec.Tls[0].Match[0].SniHosts[0]").WithErrorCode(RuleIds.TlsRouteMatch);
    }

    [Fact]
    public void Validate_SnakeCaseSniHostsAlias_IsChecked()
    {
        var vs = Tls("[edition.cnn.com]", "match: [{sni_hosts: [www.cnn.com]}]");

        _validator.TestValidate(vs).ShouldHaveValidationErrorFor("Spec.Tls[0].Match[0].SniHosts[0]").WithErrorCode(RuleIds.TlsRouteMatch);
    }
}
