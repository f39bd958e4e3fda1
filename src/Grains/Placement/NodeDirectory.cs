namespace Sajet.Grains.Placement;

/// <summary>
/// The placement grain's memory of the cluster: the registry and settings as last read, and per node the newest live
/// figures and reservation keys that reached it (a refresh, a node grain's push, a reservation's answer). Pushes and
/// answers can arrive out of order, so each node's figures are replaced only by ones with a higher stamp. No I/O.
/// </summary>
public sealed class NodeDirectory
{
    private readonly Dictionary<string, NodeEntry> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _nodeOfKey = new(StringComparer.Ordinal);
    private List<NodeRegistration> _registry = [];
    private Dictionary<string, NodeRegistration> _registered = new(StringComparer.Ordinal);

    public PlacementSettings Settings { get; private set; } = new();

    public IReadOnlyList<NodeRegistration> Registry => _registry;

    public int KeyCount => _nodeOfKey.Count;

    /// <summary>Replaces the registry and every node's view with a fresh read; nodes no longer registered are forgotten.</summary>
    public void Load(List<NodeRegistration> registry, PlacementSettings settings, IReadOnlyList<NodeView> views)
    {
        _registry = registry;
        _registered = registry.ToDictionary(r => r.Id, StringComparer.Ordinal);
        Settings = settings;
        foreach (var gone in _nodes.Keys.Where(id => !_registered.ContainsKey(id)).ToList())
        {
            Forget(gone);
        }

        for (var i = 0; i < registry.Count; i++)
        {
            Apply(registry[i].Id, views[i]);
        }
    }

    /// <summary>A node's figures and keys, if newer than those held (a node not in the registry is ignored until it is).</summary>
    public void Apply(string nodeId, NodeView view)
    {
        if (!_registered.ContainsKey(nodeId))
        {
            return;
        }

        if (_nodes.TryGetValue(nodeId, out var entry) && entry.Live.Stamp >= view.Live.Stamp)
        {
            return;
        }

        if (entry is not null)
        {
            foreach (var key in entry.Keys)
            {
                if (_nodeOfKey.TryGetValue(key, out var holder) && holder == nodeId)
                {
                    _nodeOfKey.Remove(key);
                }
            }
        }

        entry = new NodeEntry(view.Live, [.. view.Keys]);
        _nodes[nodeId] = entry;
        foreach (var key in entry.Keys)
        {
            _nodeOfKey[key] = nodeId;
        }
    }

    /// <summary>A reservation's answer: the node's newer figures, and the key now held there (or not).</summary>
    public void Answered(string nodeId, string key, bool reserved, NodeLive live)
    {
        if (!_registered.ContainsKey(nodeId))
        {
            return;
        }

        if (!_nodes.TryGetValue(nodeId, out var entry))
        {
            entry = new NodeEntry(live, []);
            _nodes[nodeId] = entry;
        }
        else if (live.Stamp > entry.Live.Stamp)
        {
            entry.Live = live;
        }

        if (reserved)
        {
            if (_nodeOfKey.TryGetValue(key, out var other) && other != nodeId && _nodes.TryGetValue(other, out var was))
            {
                was.Keys.Remove(key);
            }

            entry.Keys.Add(key);
            _nodeOfKey[key] = nodeId;
        }
    }

    public void Released(string key)
    {
        if (_nodeOfKey.Remove(key, out var nodeId) && _nodes.TryGetValue(nodeId, out var entry))
        {
            entry.Keys.Remove(key);
        }
    }

    /// <summary>The node believed to hold a reservation under this key, with its registry entry.</summary>
    public NodeRegistration? HolderOf(string key) =>
        _nodeOfKey.TryGetValue(key, out var nodeId) ? Registration(nodeId) : null;

    public NodeRegistration? Registration(string nodeId) => _registered.GetValueOrDefault(nodeId);

    /// <summary>Every registered node as the decision sees it now (a node never heard from counts as unknown).</summary>
    public List<NodeSnapshot> Snapshots(DateTimeOffset now)
    {
        var list = new List<NodeSnapshot>(_registry.Count);
        foreach (var r in _registry)
        {
            list.Add((_nodes.TryGetValue(r.Id, out var e) ? e.Live : Unknown).ToSnapshot(r, now));
        }

        return list;
    }

    private void Forget(string nodeId)
    {
        if (_nodes.Remove(nodeId, out var entry))
        {
            foreach (var key in entry.Keys)
            {
                if (_nodeOfKey.TryGetValue(key, out var holder) && holder == nodeId)
                {
                    _nodeOfKey.Remove(key);
                }
            }
        }
    }

    private static readonly NodeLive Unknown = new("unknown", null, false, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false);

    private sealed class NodeEntry(NodeLive live, HashSet<string> keys)
    {
        public NodeLive Live { get; set; } = live;

        public HashSet<string> Keys { get; } = keys;
    }
}
