using Microsoft.AspNetCore.Authorization;
using OrderFlow.Customers;
using OrderFlow.Orders;

namespace OrderFlow.Api.Auth;

/// <summary>
/// A command's answer carries the aggregate's view. To a caller that may send commands but not
/// read (the role writer alone) it comes without personal data, and the header
/// <see cref="WithheldHeader"/> says so: otherwise a writer could read any customer's name and email
/// by changing their country and back, or any order's address by repeating its payment. Who may
/// read is the read routes' own policy (<see cref="ApiPolicies.Read"/>).
/// </summary>
public static class CommandAnswerPrivacy
{
    public const string WithheldHeader = "Personal-Data-Withheld";

    /// <summary><paramref name="view"/> as the caller may see it: whole, or <paramref name="withoutPersonalData"/>.</summary>
    public static async Task<TView?> ForCallerAsync<TView>(HttpContext http, TView? view, Func<TView, TView> withoutPersonalData)
        where TView : class
    {
        if (view is null
            || (await http.RequestServices.GetRequiredService<IAuthorizationService>().AuthorizeAsync(http.User, ApiPolicies.Read)).Succeeded)
        {
            return view;
        }

        http.Response.Headers[WithheldHeader] = "true";
        return withoutPersonalData(view);
    }

    /// <summary>The order without its members marked personal data.</summary>
    public static OrderView WithoutPersonalData(OrderView order) => order with { ShippingAddress = null };

    /// <summary>The customer without their members marked personal data.</summary>
    public static CustomerView WithoutPersonalData(CustomerView customer) => customer with { Name = null, Email = null };
}
