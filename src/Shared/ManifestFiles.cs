namespace EgressWebhook.Shared;

/// <summary>Finds manifest files: a file as given, a directory recursively (<c>*.yaml</c>, <c>*.yml</c>, <c>*.json</c>)
/// in ordinal order, so that every run reads them in the same order. Shared by the CLI and the server's state directory.</summary>
internal static class ManifestFiles
{
    private static readonly string[] Extensions = [".yaml", ".yml", ".json"];

    public static bool IsManifest(string path) =>
        Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase) &&
        !Path.GetFileName(path).StartsWith('.');

    /// <summary>Manifest files under <paramref name="directory"/>, hidden files and folders (<c>..data</c> links of a
    /// mounted ConfigMap) excluded.</summary>
    public static IReadOnlyList<string> InDirectory(string directory)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden, IgnoreInaccessible = false };
        return Directory.EnumerateFiles(directory, "*", options)
            .Where(f => IsManifest(f) && !Path.GetRelativePath(directory, f).Split(Path.DirectorySeparatorChar).Any(s => s.StartsWith('.')))
            .Order(StringComparer.Ordinal)
            .ToArray();
    }
}
