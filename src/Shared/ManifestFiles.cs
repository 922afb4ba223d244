namespace EgressWebhook.Shared;

/// <summary>Finds manifest files: a file as given, a directory recursively (<c>*.yaml</c>, <c>*.yml</c>, <c>*.json</c>)
/// in ordinal order, so that every run reads them in the same order. Shared by the CLI and the server's state directory.</summary>
/// <remarks>Hostile trees are bounded: a directory reached twice (a symlink loop such as <c>sub/a -> ..</c>) is walked
/// once, by its real path; past <see cref="MaxFiles"/> files or <see cref="MaxDirectories"/> directories, and for a file
/// over <see cref="MaxFileBytes"/>, the read fails with one line (an <see cref="IOException"/>).</remarks>
internal static class ManifestFiles
{
    /// <summary>Most manifest files read from one directory tree (a 50,000-object state is about 5,000 files).</summary>
    public const int MaxFiles = 20_000;

    /// <summary>Most directories walked in one tree.</summary>
    public const int MaxDirectories = 20_000;

    /// <summary>Largest manifest file read (the YAML reader's own limit).</summary>
    public const long MaxFileBytes = Core.Serialization.YamlJson.MaxChars;

    private static readonly string[] Extensions = [".yaml", ".yml", ".json"];

    public static bool IsManifest(string path) =>
        Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase) &&
        !Path.GetFileName(path).StartsWith('.');

    /// <summary>Manifest files under <paramref name="directory"/>, hidden files and folders (<c>..data</c> links of a
    /// mounted ConfigMap) excluded; each directory walked once by its real path, so symlink loops end.</summary>
    /// <exception cref="IOException">The tree is unreadable or has more files or directories than the limits.</exception>
    public static IReadOnlyList<string> InDirectory(string directory)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = FileAttributes.Hidden, IgnoreInaccessible = false };
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        var files = new List<string>();
        pending.Push(directory);
        while (pending.TryPop(out var current))
        {
            if (!visited.Add(RealPath(current)))
            {
                continue;
            }

            if (visited.Count > MaxDirectories)
            {
                throw new IOException($"{directory}: more than {MaxDirectories} directories; refusing to read the tree");
            }

            foreach (var file in Directory.EnumerateFiles(current, "*", options))
            {
                if (IsManifest(file))
                {
                    files.Add(file);
                    if (files.Count > MaxFiles)
                    {
                        throw new IOException($"{directory}: more than {MaxFiles} manifest files; refusing to read the tree");
                    }
                }
            }

            foreach (var sub in Directory.EnumerateDirectories(current, "*", options))
            {
                if (!Path.GetFileName(sub).StartsWith('.'))
                {
                    pending.Push(sub);
                }
            }
        }

        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>The text of a manifest file, refused with one line when it is over <see cref="MaxFileBytes"/>.</summary>
    /// <exception cref="IOException">Unreadable, or too large.</exception>
    public static string ReadText(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length > MaxFileBytes)
        {
            throw new IOException($"{stream.Length} bytes is over the {MaxFileBytes} byte limit for a manifest file");
        }

        using var reader = new StreamReader(stream);
        return ReadBounded(reader);
    }

    /// <summary>All of <paramref name="reader"/>, refused past <see cref="MaxFileBytes"/> characters (standard input has no length).</summary>
    /// <exception cref="IOException">Too long.</exception>
    public static string ReadBounded(TextReader reader)
    {
        var buffer = new char[81920];
        var text = new System.Text.StringBuilder();
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            text.Append(buffer, 0, read);
            if (text.Length > MaxFileBytes)
            {
                throw new IOException($"input is over the {MaxFileBytes} character limit for manifests");
            }
        }

        return text.ToString();
    }

    /// <summary>The directory's path with every symlink resolved (the walk's identity of a directory).</summary>
    private static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            var parts = full.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
            var resolved = Path.GetPathRoot(full) ?? "/";
            foreach (var part in parts)
            {
                var next = Path.Combine(resolved, part);
                var target = new DirectoryInfo(next).ResolveLinkTarget(returnFinalTarget: true);
                resolved = target is null ? next : Path.GetFullPath(target.FullName);
            }

            return resolved;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return full;
        }
    }
}
