using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Sajet.WebFront.Pages;

/// <summary>The Spanish error page that exceptions and empty error statuses of page requests re-execute to.</summary>
[AllowAnonymous]
[IgnoreAntiforgeryToken]
[ResponseCache(NoStore = true, Duration = 0, Location = ResponseCacheLocation.None)]
public sealed class ErrorModel : PageModel
{
    public int Code { get; private set; }

    public string Title { get; private set; } = "";

    public string Message { get; private set; } = "";

    public void OnGet(int? code) => Describe(code);

    public void OnPost(int? code) => Describe(code);

    private void Describe(int? code)
    {
        Code = code ?? (HttpContext.Response.StatusCode >= 400 ? HttpContext.Response.StatusCode : 500);
        (Title, Message) = Code switch
        {
            400 => ("Solicitud no válida", "El formulario ha caducado o no es válido. Vuelve a la página anterior, recárgala e inténtalo de nuevo."),
            403 => ("Acceso denegado", "Tu cuenta no tiene permiso para ver esta página."),
            404 => ("Página no encontrada", "La página que buscas no existe o se ha movido."),
            413 => ("Solicitud demasiado grande", "Lo que has enviado supera el tamaño máximo permitido."),
            429 => ("Demasiadas solicitudes", "Has hecho demasiadas solicitudes en poco tiempo. Espera un momento y vuelve a intentarlo."),
            _ when Code >= 500 => ("Algo ha fallado", "Se ha producido un error en el servidor. Ya lo hemos registrado; inténtalo de nuevo en unos minutos."),
            _ => ("No se pudo completar la solicitud", "Vuelve a la página anterior e inténtalo de nuevo."),
        };
        if (code is not null)
        {
            Response.StatusCode = Code;
        }
    }
}
