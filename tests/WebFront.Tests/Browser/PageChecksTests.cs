using Sajet.Grains.Interfaces;

namespace Sajet.WebFront.Tests.Browser;

/// <summary>The number check of every page finds what it is meant to find, and passes what Es writes.</summary>
public sealed class PageChecksTests
{
    [Theory]
    [InlineData("Usado 4.9 GiB de 16")]
    [InlineData("Precio 49.00 US$")]
    [InlineData("Total 1,234 clientes")]
    [InlineData("Total 1.234 clientes")]
    [InlineData("Desde $49 al mes")]
    [InlineData("CPU al 42%")]
    [InlineData("Disco 50GiB")]
    [InlineData("Tiene 2 cores")]
    [InlineData("SLA 99.9 %")]
    public void NonSpanishNumbers_AreFound(string text) => Assert.NotEmpty(PageChecks.NonSpanishNumbers(text));

    [Fact]
    public void WhatEsWrites_Passes()
    {
        var text = string.Join(" · ", Es.Usd(4900), Es.Usd(123456789), Es.Gib(5_261_334_937), Es.Percent(0.42), Es.MemoryMb(512), Es.MemoryMb(4096),
            Es.DiskGb(50), Es.Cores(1), Es.Cores(2), Es.Number(1234m), Es.Number(12345m), Es.Number(0.125m, 3), Es.Number(99.9, 1) + " %",
            "http://127.0.0.1:8006", "2026-12-02 21:35:00 UTC", "vmid 101", "Odoo 18.0 responde", "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst");
        Assert.Empty(PageChecks.NonSpanishNumbers(text));
    }
}
