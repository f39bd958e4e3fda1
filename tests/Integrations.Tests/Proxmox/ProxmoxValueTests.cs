using Sajet.Integrations.Proxmox;

namespace Sajet.Integrations.Tests.Proxmox;

public class ProxmoxValueTests
{
    [Fact]
    public void Upid_ParseTokenForm_RoundTrips()
    {
        const string text = "UPID:pve1:0002A3F1:01C9B6E2:6790D1C4:vzcreate:101:provisioner@pve!ci:";
        var upid = Upid.Parse(text);
        Assert.Equal("pve1", upid.Node);
        Assert.Equal(0x2A3F1, upid.Pid);
        Assert.Equal(0x01C9B6E2, upid.PStart);
        Assert.Equal(0x6790D1C4, upid.StartTime);
        Assert.Equal("vzcreate", upid.Type);
        Assert.Equal("101", upid.Id);
        Assert.Equal("provisioner@pve!ci", upid.User);
        Assert.Equal(text, upid.ToString());
    }

    [Fact]
    public void Upid_NinePStartDigitsAndEmptyId_Parse()
    {
        var upid = Upid.Parse("UPID:node-a:000000FF:1C9B6E2AB:6790D1C4:vzdump::root@pam:");
        Assert.Equal(0x1C9B6E2AB, upid.PStart);
        Assert.Equal("", upid.Id);
        Assert.Equal("UPID:node-a:000000FF:1C9B6E2AB:6790D1C4:vzdump::root@pam:", upid.ToString());
    }

    [Theory]
    [InlineData("UPID:pve1:0002A3F1:01C9B6E2:6790D1C4:vzcreate:101:root@pam")]
    [InlineData("UPID:-pve:0002A3F1:01C9B6E2:6790D1C4:vzcreate:101:root@pam:")]
    [InlineData("UPID:pve1:2A3F1:01C9B6E2:6790D1C4:vzcreate:101:root@pam:")]
    [InlineData("")]
    public void Upid_Malformed_IsRejected(string text)
    {
        Assert.False(Upid.TryParse(text, out _));
        Assert.Throws<FormatException>(() => Upid.Parse(text));
    }

    [Fact]
    public void PropertyString_DefaultKey_ParsesAndFormats()
    {
        var rootfs = PropertyString.Parse("local-lvm:vm-101-disk-0,mountoptions=noatime,size=8G", "volume");
        Assert.Equal("local-lvm:vm-101-disk-0", rootfs["volume"]);
        Assert.Equal("8G", rootfs["size"]);
        rootfs["size"] = "10G";
        Assert.Equal("local-lvm:vm-101-disk-0,mountoptions=noatime,size=10G", rootfs.ToString());
    }

    [Fact]
    public void PropertyString_WithoutDefaultKey_KeepsOrderAndRemoves()
    {
        var net = PropertyString.Parse("name=eth0,bridge=vmbr0,ip=dhcp");
        net["firewall"] = "1";
        net["ip"] = null;
        Assert.Equal("name=eth0,bridge=vmbr0,firewall=1", net.ToString());
        Assert.Throws<FormatException>(() => PropertyString.Parse("bare"));
    }

    [Theory]
    [InlineData("provisioner@pve")]
    [InlineData("provisioner!ci")]
    [InlineData("provisioner@pve!1ci")]
    [InlineData("a b@pve!ci")]
    public void Connection_BadTokenId_FailsUpFront(string tokenId)
    {
        var ex = Assert.Throws<ArgumentException>(() => new ProxmoxConnection(new Uri("https://pve:8006"), tokenId, "3f2e5c1a-6b0d-4c1e-9a77-2d4b8f0e1c55"));
        Assert.Contains("USER@REALM!TOKENID", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connection_Fingerprint_AcceptsBothFormsAndHidesSecret()
    {
        var colon = string.Join(':', Enumerable.Repeat("ab", 32));
        var connection = new ProxmoxConnection(new Uri("https://pve:8006"), "sajet@pve!ci", "3f2e5c1a-6b0d-4c1e-9a77-2d4b8f0e1c55") { Fingerprint = colon };
        Assert.Equal(string.Concat(Enumerable.Repeat("AB", 32)), connection.Fingerprint);
        Assert.Equal(connection.Fingerprint, (connection with { Fingerprint = string.Concat(Enumerable.Repeat("ab", 32)) }).Fingerprint);
        Assert.Throws<ArgumentException>(() => connection with { Fingerprint = "AB:CD" });
        Assert.DoesNotContain("3f2e5c1a", connection.ToString(), StringComparison.Ordinal);
    }
}
