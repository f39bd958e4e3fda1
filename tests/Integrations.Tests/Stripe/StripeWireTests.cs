using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Sajet.Integrations.Tests.Stripe;

/// <summary>
/// The simulator's exact wire shapes with raw HTTP, the way stripe-node, stripe-python or Stripe.net
/// would send and read them: form bodies in, JSON objects and error envelopes out.
/// </summary>
public sealed class StripeWireTests : StripeSimulatorTest
{
    [Fact]
    public async Task CreateCustomer_FormIn_JsonOut_WithStripeHeaders()
    {
        using var response = await SendAsync(HttpMethod.Post, "/v1/customers",
            "email=owner%40acme.test&name=Acme+GmbH&metadata[tenant_id]=42&preferred_locales[0]=de", idempotencyKey: "stripe-node-retry-1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("req_", response.Headers.GetValues("Request-Id").Single(), StringComparison.Ordinal);
        Assert.Equal("2026-07-29.dahlia", response.Headers.GetValues("Stripe-Version").Single());
        var json = await JsonAsync(response);
        Assert.Equal("customer", json.GetProperty("object").GetString());
        Assert.Equal("Acme GmbH", json.GetProperty("name").GetString());
        Assert.Equal("owner@acme.test", json.GetProperty("email").GetString());
        Assert.Equal("42", json.GetProperty("metadata").GetProperty("tenant_id").GetString());
        Assert.Equal("de", json.GetProperty("preferred_locales")[0].GetString());
        Assert.Equal(JsonValueKind.Number, json.GetProperty("created").ValueKind);
        Assert.False(json.GetProperty("livemode").GetBoolean());
    }

    [Fact]
    public async Task PercentEncodedBracketsAndEmptyBracketArrays_AreAccepted()
    {
        var session = await CreateSessionRawAsync();

        using var a = await SendAsync(HttpMethod.Get, $"/v1/checkout/sessions/{session}?expand%5B%5D=line_items&expand%5B%5D=customer");
        using var b = await SendAsync(HttpMethod.Get, $"/v1/checkout/sessions/{session}?expand[0]=line_items");
        var withList = await JsonAsync(a);
        Assert.Equal("list", withList.GetProperty("line_items").GetProperty("object").GetString());
        Assert.Equal(JsonValueKind.Null, withList.GetProperty("customer").ValueKind);
        Assert.Equal(4900, (await JsonAsync(b)).GetProperty("line_items").GetProperty("data")[0].GetProperty("amount_total").GetInt64());
    }

    [Fact]
    public async Task CheckoutSession_ShapeMatchesTheReference()
    {
        var id = await CreateSessionRawAsync();
        using var response = await SendAsync(HttpMethod.Get, $"/v1/checkout/sessions/{id}");
        var json = await JsonAsync(response);

        Assert.StartsWith("cs_test_", id, StringComparison.Ordinal);
        foreach (var field in new[] { "id", "object", "mode", "status", "payment_status", "customer", "customer_details", "customer_email",
                     "client_reference_id", "subscription", "invoice", "metadata", "url", "expires_at", "amount_total", "currency", "success_url", "cancel_url", "livemode" })
        {
            Assert.True(json.TryGetProperty(field, out _), $"missing {field}");
        }

        Assert.Equal(("checkout.session", "subscription", "open", "unpaid"),
            (json.GetProperty("object").GetString(), json.GetProperty("mode").GetString(), json.GetProperty("status").GetString(), json.GetProperty("payment_status").GetString()));
    }

    [Fact]
    public async Task ListEnvelope_HasObjectDataHasMoreUrl()
    {
        await SendAsync(HttpMethod.Post, "/v1/customers", "email=a%40b.test");
        using var response = await SendAsync(HttpMethod.Get, "/v1/customers?limit=1");
        var json = await JsonAsync(response);

        Assert.Equal("list", json.GetProperty("object").GetString());
        Assert.Equal(1, json.GetProperty("data").GetArrayLength());
        Assert.False(json.GetProperty("has_more").GetBoolean());
        Assert.Equal("/v1/customers", json.GetProperty("url").GetString());
    }

    [Theory]
    [InlineData(null, "You did not provide an API key.")]
    [InlineData("Bearer sk_live_0123456789abcdef", "Invalid API Key provided: sk_live_************cdef")]
    [InlineData("Bearer pk_test_0123456789abcdef", "Invalid API Key provided: pk_test_************cdef")]
    public async Task Unauthorized_Is401WithStripesMessage(string? authorization, string messageStart)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Sim.BaseUrl}/v1/customers");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await Http.SendAsync(request);
        var error = (await JsonAsync(response)).GetProperty("error");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.StartsWith(messageStart, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BasicAuth_WithKeyAsUserName_IsAccepted()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Sim.BaseUrl}/v1/customers");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("sk_test_curl:")));
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ConfiguredKeyOnly_RejectsOtherTestKeys()
    {
        await using var strict = await Simulators.Stripe.StripeSimulator.StartAsync(new Simulators.Stripe.StripeSimulatorOptions
        {
            Port = 0,
            SecretKey = "sk_test_only_this_one",
            AcceptAnyTestKey = false,
        });
        using var ok = await SendToAsync(strict.BaseUrl, "sk_test_only_this_one");
        using var other = await SendToAsync(strict.BaseUrl, "sk_test_another");
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Unauthorized), (ok.StatusCode, other.StatusCode));

        async Task<HttpResponseMessage> SendToAsync(string baseUrl, string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{baseUrl}/v1/customers");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            return await Http.SendAsync(request);
        }
    }

    [Fact]
    public async Task IdsDoNotRepeatAcrossRestarts_UnlessSeeded()
    {
        // ./sajet dev keeps its database across restarts: a restarted simulator must not hand out the same ids again.
        var (first, second) = (await FirstCustomerIdAsync(null), await FirstCustomerIdAsync(null));
        Assert.NotEqual(first, second);
        Assert.Equal(await FirstCustomerIdAsync(5), await FirstCustomerIdAsync(5));

        async Task<string> FirstCustomerIdAsync(int? seed)
        {
            await using var sim = await Simulators.Stripe.StripeSimulator.StartAsync(new Simulators.Stripe.StripeSimulatorOptions { Port = 0, Seed = seed });
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{sim.BaseUrl}/v1/customers") { Content = new StringContent("email=a%40b.test", Encoding.UTF8, "application/x-www-form-urlencoded") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", sim.SecretKey);
            using var response = await Http.SendAsync(request);
            return (await JsonAsync(response)).GetProperty("id").GetString()!;
        }
    }

    [Theory]
    [InlineData("/v1/customers/cus_nope", "No such customer: 'cus_nope'")]
    [InlineData("/v1/checkout/sessions/cs_test_nope", "No such checkout.session: 'cs_test_nope'")]
    [InlineData("/v1/subscriptions/sub_nope", "No such subscription: 'sub_nope'")]
    [InlineData("/v1/invoices/in_nope", "No such invoice: 'in_nope'")]
    [InlineData("/v1/events/evt_nope", "No such event: 'evt_nope'")]
    public async Task MissingObject_Is404ResourceMissingWithParamId(string path, string message)
    {
        using var response = await SendAsync(HttpMethod.Get, path);
        var error = (await JsonAsync(response)).GetProperty("error");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(("invalid_request_error", "resource_missing", "id", message),
            (error.GetProperty("type").GetString(), error.GetProperty("code").GetString(), error.GetProperty("param").GetString(), error.GetProperty("message").GetString()));
    }

    [Theory]
    [InlineData("mode=subscription&success_url=https%3A%2F%2Fa.test", "parameter_missing", "line_items", "Missing required param: line_items.")]
    [InlineData("mode=subscription&frobnicate=1", "parameter_unknown", "frobnicate", "Received unknown parameter: frobnicate")]
    [InlineData("mode=subscription&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=abc&line_items[0][price_data][product_data][name]=X&line_items[0][price_data][recurring][interval]=month",
        "parameter_invalid_integer", "line_items[0][price_data][unit_amount]", "Invalid integer: abc")]
    [InlineData("mode=subscription&line_items[0][price]=price_nope", "resource_missing", "line_items[0][price]", "No such price: 'price_nope'")]
    [InlineData("mode=subscription&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=1&line_items[0][price_data][product_data][name]=X&line_items[0][bogus]=1",
        "parameter_unknown", "line_items[0][bogus]", "Received unknown parameter: line_items[0][bogus]")]
    [InlineData("mode=subscription&customer=cus_nope&line_items[0][price]=price_nope", "resource_missing", "customer", "No such customer: 'cus_nope'")]
    public async Task BadCheckoutParameters_Are400WithCodeAndParam(string body, string code, string param, string message)
    {
        using var response = await SendAsync(HttpMethod.Post, "/v1/checkout/sessions", body);
        var error = (await JsonAsync(response)).GetProperty("error");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal((code, param, message), (error.GetProperty("code").GetString(), error.GetProperty("param").GetString(), error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task UnknownRoute_IsUnrecognizedRequestUrl()
    {
        using var response = await SendAsync(HttpMethod.Get, "/v1/frobnicators");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.StartsWith("Unrecognized request URL (GET: /v1/frobnicators).", (await JsonAsync(response)).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Idempotency_ReplayCarriesHeaderAndSameBody_DifferentParamsIsIdempotencyError()
    {
        using var first = await SendAsync(HttpMethod.Post, "/v1/customers", "email=a%40b.test&metadata[x]=1", idempotencyKey: "key-1");
        using var replay = await SendAsync(HttpMethod.Post, "/v1/customers", "metadata[x]=1&email=a%40b.test", idempotencyKey: "key-1");
        using var different = await SendAsync(HttpMethod.Post, "/v1/customers", "email=c%40d.test", idempotencyKey: "key-1");

        Assert.Equal(await first.Content.ReadAsStringAsync(), await replay.Content.ReadAsStringAsync());
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(HttpStatusCode.BadRequest, different.StatusCode);
        Assert.Equal("idempotency_error", (await JsonAsync(different)).GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Idempotency_ValidationFailureIsNotStored_SoTheKeyCanBeRetried()
    {
        using var bad = await SendAsync(HttpMethod.Post, "/v1/checkout/sessions", "mode=subscription", idempotencyKey: "key-2");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        using var fixedRequest = await SendAsync(HttpMethod.Post, "/v1/customers", "email=x%40y.test", idempotencyKey: "key-2");
        Assert.Equal(HttpStatusCode.OK, fixedRequest.StatusCode);
    }

    [Fact]
    public async Task InjectedFault_CarriesRetryHeadersAndStripeErrorBody()
    {
        Sim.Control.AddFault(new Simulators.Stripe.StripeFault { PathPrefix = "/v1/customers", Status = 429, Remaining = 1, RetryAfterSeconds = 2, ShouldRetry = "true" });

        using var response = await SendAsync(HttpMethod.Get, "/v1/customers");
        var error = (await JsonAsync(response)).GetProperty("error");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("2", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal("true", response.Headers.GetValues("Stripe-Should-Retry").Single());
        Assert.Equal("rate_limit", error.GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/v1/customers")).StatusCode);
    }

    [Fact]
    public async Task DeleteSubscription_ParamsInQueryString()
    {
        var id = await CreateSessionRawAsync();
        Sim.Control.PayCheckoutSession(id);
        var subscription = Sim.Control.GetObject(id)!["subscription"]!.GetValue<string>();

        using var response = await SendAsync(HttpMethod.Delete, $"/v1/subscriptions/{subscription}?cancellation_details[comment]=bye&invoice_now=false");
        var json = await JsonAsync(response);

        Assert.Equal("canceled", json.GetProperty("status").GetString());
        Assert.Equal("bye", json.GetProperty("cancellation_details").GetProperty("comment").GetString());
    }

    [Fact]
    public async Task InvalidStripeVersion_Is400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Sim.BaseUrl}/v1/customers");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk_test_x");
        request.Headers.TryAddWithoutValidation("Stripe-Version", "not-a-version");
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private async Task<string> CreateSessionRawAsync()
    {
        using var response = await SendAsync(HttpMethod.Post, "/v1/checkout/sessions",
            "mode=subscription&client_reference_id=tenant-42&success_url=https%3A%2F%2Fapp.test%2Fok%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D"
            + "&cancel_url=https%3A%2F%2Fapp.test%2Fpricing&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=4900"
            + "&line_items[0][price_data][product_data][name]=Plan+Pro&line_items[0][price_data][recurring][interval]=month&line_items[0][quantity]=1"
            + "&subscription_data[metadata][tenant_id]=42&metadata[tenant_id]=42");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await JsonAsync(response)).GetProperty("id").GetString()!;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string pathAndQuery, string? form = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, Sim.BaseUrl + pathAndQuery);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk_test_wire");
        request.Headers.TryAddWithoutValidation("Stripe-Version", "2026-07-29.dahlia");
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        if (form is not null)
        {
            request.Content = new StringContent(form, Encoding.UTF8, "application/x-www-form-urlencoded");
        }

        return await Http.SendAsync(request);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.Clone();
    }
}
