using Sajet.Grains.Interfaces.Nodes;

namespace Sajet.Grains.Tests.Nodes;

public class RetentionTests(NodesFixture f) : IClassFixture<NodesFixture>
{
    [Fact]
    public async Task FirstPoll_DownsamplesDayOldRawToHourlyAverages_DropsMonthOldHourly()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        // The node row goes in directly (no poll yet) so old samples exist before the first poll's retention pass.
        var secret = new Sajet.Persistence.Secrets.SecretProtector(NodeSilo.SecretKey).ProtectToBytes(sim.TokenSecret, NodeConstants.TokenSecretPurpose);
        await f.ExecAsync("""
            INSERT INTO nodes (id, pve_node, api_url, token_id, token_secret_enc, fingerprint) VALUES ('ret-1', 'pve1', @url, @token, @secret, @fp);
            INSERT INTO node_samples (node_id, at, resolution, cpu, memory_used, memory_total, disk_used, disk_total, containers)
            SELECT 'ret-1', date_trunc('hour', now()) - interval '30 hours' + m * interval '1 minute', 'raw',
                   CASE WHEN m < 60 THEN 0.2 ELSE 0.6 END, 100, 1000, 10, 100, 4
            FROM generate_series(0, 119) m;
            INSERT INTO node_samples (node_id, at, resolution, cpu, memory_used, memory_total, disk_used, disk_total, containers)
            SELECT 'ret-1', now() - interval '2 hours' + m * interval '1 minute', 'raw', 0.3, 100, 1000, 10, 100, 4 FROM generate_series(0, 9) m;
            INSERT INTO node_samples (node_id, at, resolution, cpu, memory_used, memory_total, disk_used, disk_total, containers)
            VALUES ('ret-1', date_trunc('hour', now()) - interval '40 days', '1h', 0.5, 1, 1, 1, 1, 1),
                   ('ret-1', date_trunc('hour', now()) - interval '20 days', '1h', 0.5, 1, 1, 1, 1, 1);
            """, ("url", sim.HttpsUrl.ToString()), ("token", sim.TokenId), ("secret", secret), ("fp", sim.CertificateFingerprint));
        await f.Silo.Grains.GetGrain<INodeGrain>("ret-1").PollNowAsync();
        await NodesFixture.UntilAsync(async () => await f.ScalarAsync<string>("SELECT health FROM nodes WHERE id = 'ret-1'") == "online", "first poll");

        Assert.Equal(0, await f.ScalarAsync<long>("SELECT count(*) FROM node_samples WHERE node_id = 'ret-1' AND resolution = 'raw' AND at < now() - interval '24 hours'"));
        var hourly = await f.ScalarAsync<string>("""
            SELECT string_agg(round(cpu::numeric, 2)::text, ',' ORDER BY at) FROM node_samples
            WHERE node_id = 'ret-1' AND resolution = '1h' AND at > now() - interval '2 days'
            """);
        Assert.Equal("0.20,0.60", hourly);
        Assert.Equal(1, await f.ScalarAsync<long>("SELECT count(*) FROM node_samples WHERE node_id = 'ret-1' AND resolution = '1h' AND at < now() - interval '2 days'"));
        Assert.True(await f.ScalarAsync<long>("SELECT count(*) FROM node_samples WHERE node_id = 'ret-1' AND resolution = 'raw'") >= 11);
    }
}
