namespace EgressWebhook.Server.Endpoints;

/// <summary>Endpoint names: metrics labels and the audit log's <c>webhook</c> field.</summary>
internal static class AdmissionEndpointNames
{
    public const string Validate = "validate";
    public const string Mutate = "mutate";
    public const string Floor = "floor";
}
