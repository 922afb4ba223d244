using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Rules.PerObject;
using FluentValidation.TestHelper;

namespace EgressWebhook.Core.Tests.Rules.PerObject;

public sealed class ServiceEntryValidatorTests
{
    private readonly ServiceEntryValidator _validator = new();

    [Theory]
    [InlineData("DNS")]
    [InlineData("DNS_ROUND_ROBIN")]
    [InlineData("DYNAMIC_DNS")]
    public void Validate_CidrWithResolutionOtherThanNoneOrStatic_ReportsEgw201(string resolution)
    {
        var se = Yaml.ServiceEntry($$"""
            hosts: [example.com]
            addresses: [10.0.0.1, 1.2.3.0/24]
            ports: [{number: 443, name: tls, protocol: TLS}]
            resolution: {{resolution}}
            """);

        var result = _validator.TestValidate(se);

        result.ShouldHaveValidationErrorFor("Spec.Resolution").WithErrorCode(RuleIds.CidrNeedsNoneOrStatic)
            .WithErrorMessage($"resolution {resolution} cannot be used with CIDR address 1.2.3.0/24 (addresses[1]); set resolution NONE or STATIC");
    }

    [Theory]
    [InlineData("")]
    [InlineData("resolution: NONE")]
    [InlineData("resolution: STATIC\nendpoints: [{address: 1.2.3.4}]")]
    public void Validate_CidrWithNoneOrStaticOrUnsetResolution_IsAccepted(string resolution)
    {
        var se = Yaml.ServiceEntry($"hosts: [example.com]\naddresses: [1.2.3.0/24]\nports: [{{number: 22, name: tcp, protocol: TCP}}]\n{resolution}");

        var result = _validator.TestValidate(se);

        result.ShouldNotHaveAnyValidationErrors();
    }

    [Fact]
    public void Validate_SingleIpAddressWithDns_IsNotACidr()
    {
        var se = Yaml.ServiceEntry("hosts: [example.com]\naddresses: [10.0.0.1, '2001:db8::1']\nports: [{number: 22, name: tcp, protocol: TCP}]\nresolution: DNS");

        _validator.TestValidate(se).ShouldNotHaveValidationErrorFor("Spec.Resolution");
    }

    [Theory]
    [InlineData("DNS")]
    [InlineData("DNS_ROUND_ROBIN")]
    public void Validate_WildcardHostWithDnsAndNoEndpoints_ReportsEgw202(string resolution)
    {
        var se = Yaml.ServiceEntry($"hosts: [api.example.com, '*.example.com']\nports: [{{number: 443, name: tls, protocol: TLS}}]\nresolution: {resolution}");

        var result = _validator.TestValidate(se);

        result.ShouldHaveValidationErrorFor("Spec.Hosts[1]").WithErrorCode(RuleIds.DnsResolutionWildcardHost);
        result.ShouldNotHaveValidationErrorFor("Spec.Hosts[0]");
    }

    [Theory]
    [InlineData("resolution: NONE")]
    [InlineData("resolution: DNS\nendpoints: [{address: proxy.example.com}]")]
    public void Validate_WildcardHostWithNoneOrWithDnsEndpoints_IsAccepted(string rest)
    {
        var se = Yaml.ServiceEntry($"hosts: ['*.example.com']\nports: [{{number: 443, name: tls, protocol: TLS}}]\n{rest}");

        _validator.TestValidate(se).ShouldNotHaveAnyValidationErrors();
    }

    [Theory]
    [InlineData("resolution: NONE")]
    [InlineData("")]
    public void Validate_NoneResolutionWithEndpoints_ReportsEgw203(string resolution)
    {
        var se = Yaml.ServiceEntry($"hosts: [example.com]\nports: [{{number: 80, name: http, protocol: HTTP}}]\nendpoints: [{{address: 1.2.3.4}}]\n{resolution}");

        _validator.TestValidate(se).ShouldHaveValidationErrorFor("Spec.Endpoints").WithErrorCode(RuleIds.EndpointsInconsistent);
    }

    [Theory]
    [InlineData("sub.example.com")]
    [InlineData("10.1")]
    [InlineData("1.2.3.4/32")]
    [InlineData("")]
    public void Validate_StaticEndpointThatIsNotAnIp_ReportsEgw203(string address)
    {
        var se = Yaml.ServiceEntry($"hosts: [example.com]\nports: [{{number: 80, name: http, protocol: HTTP}}]\nresolution: STATIC\nendpoints: [{{address: '{address}'}}]");

        _validator.TestValidate(se).ShouldHaveValidationErrorFor("Spec.Endpoints[0].Address").WithErrorCode(RuleIds.EndpointsInconsistent);
    }

    [Theory]
    [InlineData("10.12.0.1")]
    [InlineData("2001:db8::5")]
    [InlineData("unix:///var/run/example/socket")]
    public void Validate_StaticEndpointIpOrUnixSocket_IsAccepted(string address)
    {
        var se = Yaml.ServiceEntry($"hosts: [example.com]\nports: [{{number: 80, name: http, protocol: HTTP}}]\nresolution: STATIC\nendpoints: [{{address: '{address}'}}]");

        _validator.TestValidate(se).ShouldNotHaveAnyValidationErrors();
    }

    [Theory]
    [InlineData("STATIC", "10.0.0.1")]
    [InlineData("DNS", "us.foo.bar.com")]
    public void Validate_EndpointPortNameNotDeclared_ReportsEgw203(string resolution, string address)
    {
        var se = Yaml.ServiceEntry($$"""
            hosts: [foo.bar.com]
            ports: [{number: 8000, name: http, protocol: HTTP}]
            resolution: {{resolution}}
            endpoints:
            - address: {{address}}
              ports: {http: 8080, https: 8443}
            """);

        var result = _validator.TestValidate(se);

        result.ShouldHaveValidationErrorFor("Spec.Endpoints[0].Ports[https]").WithErrorCode(RuleIds.EndpointsInconsistent);
        result.ShouldNotHaveValidationErrorFor("Spec.Endpoints[0].Ports[http]");
    }

    [Theory]
    [InlineData("DNS", "TCP")]
    [InlineData("STATIC", "MONGO")]
    [InlineData("DNS", "")]
    [InlineData("DYNAMIC_DNS", "tcp")]
    public void Validate_MultipleHostsWithNonHttpNonTlsPort_ReportsEgw204(string resolution, string protocol)
    {
        var se = Yaml.ServiceEntry($$"""
            hosts: [a.example.com, b.example.com]
            addresses: [10.0.0.1]
            ports:
            - {number: 443, name: tls, protocol: TLS}
            - {number: 27017, name: db, protocol: '{{protocol}}'}
            resolution: {{resolution}}
            endpoints: [{address: 10.0.0.2}]
            """);

        var result = _validator.TestValidate(se);

        result.ShouldHaveValidationErrorFor("Spec.Ports[1].Protocol").WithErrorCode(RuleIds.MultiHostNeedsHttpOrTls);
        result.ShouldNotHaveValidationErrorFor("Spec.Ports[0].Protocol");
    }

    [Theory]
    [InlineData("resolution: NONE", "TCP")]
    [InlineData("resolution: DNS", "https")]
    [InlineData("resolution: DNS", "GRPC")]
    [InlineData("resolution: DNS", "HTTP_PROXY")]
    public void Validate_MultipleHostsWithNoneOrHttpOrTlsPorts_IsAccepted(string resolution, string protocol)
    {
        var se = Yaml.ServiceEntry($"hosts: [a.example.com, b.example.com]\nports: [{{number: 443, name: p, protocol: {protocol}}}]\n{resolution}");

        _validator.TestValidate(se).ShouldNotHaveAnyValidationErrors();
    }

    [Fact]
    public void Validate_DuplicatePortNumberAndName_ReportsEgw205OnTheSecondPort()
    {
        var se = Yaml.ServiceEntry("""
            hosts: [example.com]
            ports:
            - {number: 80, name: http, protocol: HTTP}
            - {number: 80, name: web, protocol: HTTP}
            - {number: 8080, name: http, protocol: HTTP}
            """);

        var result = _validator.TestValidate(se);

        result.ShouldHaveValidationErrorFor("Spec.Ports[1].Number").WithErrorCode(RuleIds.InvalidPorts)
            .WithErrorMessage("port number 80 is declared twice (ports[0] and ports[1]); remove or renumber one");
        result.ShouldHaveValidationErrorFor("Spec.Ports[2].Name").WithErrorCode(RuleIds.InvalidPorts);
        result.ShouldNotHaveValidationErrorFor("Spec.Ports[0].Number");
        result.ShouldNotHaveValidationErrorFor("Spec.Ports[1].Name");
    }

    [Theory]
    [InlineData("number: 0", "Spec.Ports[0].Number")]
    [InlineData("number: 99999", "Spec.Ports[0].Number")]
    [InlineData("number: 1, targetPort: 99999", "Spec.Ports[0].TargetPort")]
    [InlineData("number: 80, protocol: HTTP3", "Spec.Ports[0].Protocol")]
    public void Validate_InvalidPort_ReportsEgw205(string port, string path)
    {
        var se = Yaml.ServiceEntry($"hosts: [example.com]\nports: [{{name: p, {port}}}]");

        _validator.TestValidate(se).ShouldHaveValidationErrorFor(path).WithErrorCode(RuleIds.InvalidPorts);
    }

    [Theory]
    [InlineData("number: 65535, protocol: tcp")]
    [InlineData("number: 1, targetPort: 0")]
    [InlineData("number: 80, protocol: grpc-web")]
    [InlineData("number: 80")]
    public void Validate_ValidPort_IsAccepted(string port)
    {
        var se = Yaml.ServiceEntry($"hosts: [example.com]\naddresses: [10.0.0.1]\nports: [{{name: p, {port}}}]");

        _validator.TestValidate(se).ShouldNotHaveAnyValidationErrors();
    }

    [Fact]
    public void Validate_EveryViolation_IsReported()
    {
        var se = Yaml.ServiceEntry("""
            hosts: ['*.example.com', b.example.com]
            addresses: [1.2.3.0/24]
            ports: [{number: 99999, name: tcp, protocol: TCP}]
            resolution: DNS
            """);

        var codes = _validator.Validate(se).Errors.Select(e => e.ErrorCode).Distinct().Order().ToList();

        Assert.Equal([RuleIds.CidrNeedsNoneOrStatic, RuleIds.DnsResolutionWildcardHost, RuleIds.MultiHostNeedsHttpOrTls, RuleIds.InvalidPorts], codes);
    }
}
