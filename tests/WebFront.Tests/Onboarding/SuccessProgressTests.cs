using System.Reflection;
using Sajet.Grains.Interfaces;
using Sajet.WebFront.Onboarding;
using Sajet.WebFront.Tests.Browser;

namespace Sajet.WebFront.Tests.Onboarding;

/// <summary>What /success says for each tenant state: the customer's words, never the operator's.</summary>
public sealed class SuccessProgressTests
{
    private static readonly string[] Internal = ["pve", "checkout", "stripe", "vcpu", "mib", "gib", "nodo", "node", "estrategia", "lxc", "vmid", "upid", "_"];

    public static TheoryData<string, string?> States()
    {
        var data = new TheoryData<string, string?>();
        foreach (var status in typeof(TenantStatus).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!).Append("some_future_state"))
        {
            foreach (var step in new string?[] { null, "create_container", "start_container", "await_odoo", "await_shared", "create_database", "verify" })
            {
                data.Add(status, step);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(States))]
    public void CustomerProgress_AnyState_FourPlainSpanishStepsWithoutInternalNames(string status, string? step)
    {
        var progress = CustomerProgress.Of(status, step);

        Assert.Equal(["Pago recibido", "Preparando tu servidor", "Creando tu base de datos", "¡Listo!"], progress.Steps.Select(s => s.Label));
        Assert.True(progress.Steps.Count(s => s.State == CustomerProgress.Current) <= 1);
        Assert.InRange(progress.Percent, 0, 100);
        var text = string.Join("\n", [progress.Badge, progress.Heading, progress.Message]);
        Assert.DoesNotMatch(PageChecks.English, text);
        foreach (var word in Internal)
        {
            Assert.DoesNotContain(word, text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void CustomerProgress_Waiting_AmberInLineTeamToldNothingToDo()
    {
        var waiting = CustomerProgress.Of(TenantStatus.WaitingForCapacity, null);

        Assert.Equal("waiting", waiting.Tone);
        Assert.Contains("en la cola", waiting.Message, StringComparison.Ordinal);
        Assert.Contains("Nuestro equipo ya está avisado", waiting.Message, StringComparison.Ordinal);
        Assert.Contains("No tienes que hacer nada", waiting.Message, StringComparison.Ordinal);
        Assert.Equal([CustomerProgress.Done, CustomerProgress.Current, CustomerProgress.Todo, CustomerProgress.Todo], waiting.Steps.Select(s => s.State));
        Assert.False(waiting.Ready);
    }

    [Fact]
    public void CustomerProgress_StepsFollowTheOnboarding()
    {
        Assert.Equal(CustomerProgress.Current, CustomerProgress.Of(TenantStatus.Pending, null).Steps[0].State);
        Assert.Equal(CustomerProgress.Current, CustomerProgress.Of(TenantStatus.Provisioning, "start_container").Steps[1].State);
        Assert.Equal(CustomerProgress.Current, CustomerProgress.Of(TenantStatus.Provisioning, "create_database").Steps[2].State);
        var active = CustomerProgress.Of(TenantStatus.Active, null);
        Assert.All(active.Steps, s => Assert.Equal(CustomerProgress.Done, s.State));
        Assert.Equal("¡Tu Odoo está listo!", active.Heading);
        Assert.Equal(100, active.Percent);
        Assert.True(active.Ready);
        Assert.Equal("problem", CustomerProgress.Of(TenantStatus.Failed, "verify").Tone);
        Assert.Contains("nuestro equipo ya está trabajando en ello", CustomerProgress.Of(TenantStatus.Failed, null).Message, StringComparison.Ordinal);
    }
}
