namespace Sajet.WebFront.Auth;

/// <summary>
/// The two session cookies. Both are httpOnly and SameSite=Strict (which is also what keeps cross-site requests
/// from riding on them), and Secure whenever the request came over https. The refresh cookie is only sent to
/// /api/auth, so a page request never carries it.
/// </summary>
public static class AuthCookies
{
    public const string Access = "sajet_at";
    public const string Refresh = "sajet_rt";
    public const string RefreshPath = "/api/auth";

    /// <summary>
    /// A readable marker with no secret in it: tells the login pages' script that a refresh cookie may exist, so a
    /// first-time visitor's browser does not probe /api/auth/refresh (and log a 401) for nothing.
    /// </summary>
    public const string Hint = "sajet_session";

    public static void Set(HttpContext http, Sessions.IssuedSession session)
    {
        http.Response.Cookies.Append(Access, session.AccessToken, Options(http, "/", session.AccessExpiresAt));
        http.Response.Cookies.Append(Refresh, session.RefreshToken, Options(http, RefreshPath, session.RefreshExpiresAt));
        var hint = Options(http, "/", session.RefreshExpiresAt);
        hint.HttpOnly = false;
        http.Response.Cookies.Append(Hint, "1", hint);
    }

    public static void Clear(HttpContext http)
    {
        http.Response.Cookies.Delete(Access, Options(http, "/", null));
        http.Response.Cookies.Delete(Refresh, Options(http, RefreshPath, null));
        var hint = Options(http, "/", null);
        hint.HttpOnly = false;
        http.Response.Cookies.Delete(Hint, hint);
    }

    public static CookieOptions Options(HttpContext http, string path, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = http.Request.IsHttps,
        Path = path,
        Expires = expires,
        IsEssential = true,
    };
}
