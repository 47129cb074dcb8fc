using OrderFlow.Customers.Commands;

namespace OrderFlow.Grains.Customers;

/// <summary>
/// The field rules of every customer command, independent of the customer's state. This minimal
/// version requires the members only; the field rules proper (h-customers) replace this file.
/// </summary>
public static class CustomerCommandValidator
{
    public static Dictionary<string, string[]> Validate(CustomerCommand command, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>();
        void Require(string field, string? value)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors[field] = ["is required"];
            }
        }

        switch (command)
        {
            case RegisterCustomer register:
                Require("customerId", register.CustomerId);
                Require("name", register.Name);
                Require("email", register.Email);
                Require("country", register.Country);
                break;
            case ChangeCustomerProfile { Name: null, Email: null, Country: null }:
                errors["$"] = ["must change at least one of name, email or country"];
                break;
            case ErasePersonalData erase:
                Require("erasedBy", erase.ErasedBy);
                break;
        }

        return errors;
    }
}
