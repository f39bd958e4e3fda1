using System.ComponentModel.DataAnnotations;
using Sajet.Integrations.Odoo;
using Sajet.Integrations.Resilience;

namespace Sajet.Grains.Provisioning;

/// <summary>
/// The silo's Odoo calls' timeouts, read retries and per-instance breaker (section <c>Odoo:Resilience</c>); the defaults
/// and the reasons for them are <see cref="OdooClientOptions.Resilience"/>'s.
/// </summary>
public sealed class OdooResilienceOptions : IValidatableObject
{
    public const string Section = "Odoo";

    public HttpResilienceOptions Resilience { get; set; } = new OdooClientOptions().Resilience;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => Resilience.Validate(validationContext);
}
