using System.Buffers;
using System.Text.Json;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Core.Engine;

/// <summary>Whether two versions of an object read the same to every rule.</summary>
/// <remarks>The model holds only what the rules read (<see cref="ObjectMeta"/>: "the part of metadata that the rules
/// read"), so two versions whose models serialize to the same JSON, once the metadata that the API server changes on
/// every write (<c>resourceVersion</c>, <c>generation</c>, <c>uid</c>: read by no rule) is left out, give every rule
/// the same input. An UPDATE that changes nothing else (a label-less metadata touch, a controller's re-apply, a
/// generation bump) then cannot change any finding about another object, and <see cref="EgressEngine.CheckChange"/>
/// skips re-checking the objects that depend on it. The comparison is conservative: a different order of map keys, or
/// null against empty text, counts as a difference. <see cref="MeshConfig"/> is never compared (it keeps its decoding
/// problem outside the JSON).</remarks>
internal static class RuleInputs
{
    [ThreadStatic]
    private static Buffers? t_buffers;

    public static bool Same(EgressObject a, EgressObject b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.GetType() != b.GetType() || a is MeshConfig)
        {
            return false;
        }

        var buffers = t_buffers ??= new Buffers();
        try
        {
            return buffers.Write(a, buffers.First).WrittenSpan.SequenceEqual(buffers.Write(b, buffers.Second).WrittenSpan);
        }
        finally
        {
            buffers.Reset();
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One per thread, kept for the thread's life; the writer holds only managed buffers.")]
    private sealed class Buffers
    {
        private const int Retained = 64 * 1024;
        private readonly Utf8JsonWriter _writer = new(Stream.Null);

        public ArrayBufferWriter<byte> First { get; private set; } = new(4096);

        public ArrayBufferWriter<byte> Second { get; private set; } = new(4096);

        public ArrayBufferWriter<byte> Write(EgressObject obj, ArrayBufferWriter<byte> into)
        {
            var normalized = obj with { Metadata = obj.Metadata with { ResourceVersion = null, Generation = null, Uid = null } };
            _writer.Reset(into);
            JsonSerializer.Serialize(_writer, normalized, EgressJsonContext.Default.GetTypeInfo(obj.GetType())!);
            _writer.Flush();
            return into;
        }

        /// <summary>Keeps the buffers for the next call unless a large object grew them.</summary>
        public void Reset()
        {
            First = Next(First);
            Second = Next(Second);
            _writer.Reset(Stream.Null);
        }

        private static ArrayBufferWriter<byte> Next(ArrayBufferWriter<byte> buffer)
        {
            if (buffer.Capacity > Retained)
            {
                return new ArrayBufferWriter<byte>(4096);
            }

            buffer.ResetWrittenCount();
            return buffer;
        }
    }
}
