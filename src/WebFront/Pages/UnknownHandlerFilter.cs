using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Sajet.WebFront.Pages;

/// <summary>
/// A POST (or any method but GET and HEAD) that names no handler the page has is answered 400. Razor Pages would
/// otherwise render the page without running a handler, and the pages that load their model in their handlers
/// (a node's, a tenant's) threw on a null model: a 500 found by ./sajet scan with <c>?handler=</c> changed.
/// </summary>
public sealed class UnknownHandlerFilter : IPageFilter
{
    public void OnPageHandlerSelected(PageHandlerSelectedContext context)
    {
    }

    public void OnPageHandlerExecuting(PageHandlerExecutingContext context)
    {
        var method = context.HttpContext.Request.Method;
        if (context.HandlerMethod is null && !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            context.Result = new BadRequestResult();
        }
    }

    public void OnPageHandlerExecuted(PageHandlerExecutedContext context)
    {
    }
}
