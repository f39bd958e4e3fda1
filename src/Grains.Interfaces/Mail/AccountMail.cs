namespace Sajet.Grains.Interfaces.Mail;

/// <summary>
/// Mail about a person's account that the web front asks for (it writes no mail itself: the outbox belongs to the
/// silos' mail sender). Enqueued durably before the call returns, once per <c>mailId</c>, so a retried request sends one mail.
/// </summary>
[Alias("sajet.IAccountMailGrain")]
public interface IAccountMailGrain : IGrainWithIntegerKey
{
    /// <summary>A password-reset link for <paramref name="email"/>, valid for <paramref name="validMinutes"/> minutes.</summary>
    [Alias("password-reset")]
    Task SendPasswordResetAsync(Guid mailId, string email, string link, int validMinutes);
}
