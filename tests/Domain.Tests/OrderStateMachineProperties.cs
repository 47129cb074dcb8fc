using CsCheck;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;

namespace OrderFlow.Domain.Tests;

/// <summary>
/// Random command sequences against the decider and state, compared step by step with a model
/// written straight from API.md's lifecycle table.
/// </summary>
public sealed class OrderStateMachineProperties
{
    private sealed record Step(string Kind, int Id, int Cents, bool Exact);

    private sealed class Model
    {
        public OrderStatus Status;
        public decimal Total;
        public decimal Paid;
        public decimal Refunded;
        public string? PaymentId;
        public readonly Dictionary<string, decimal> Refunds = [];
        public int Version;
    }

    private static readonly Gen<Step> StepGen =
        Gen.Select(
            Gen.OneOfConst("place", "pay", "ship", "deliver", "cancel", "refund"),
            Gen.Int[1, 3],
            Gen.Int[1, 3000],
            Gen.Bool,
            (kind, id, cents, exact) => new Step(kind, id, cents, exact));

    [Fact]
    public void Decider_agrees_with_the_lifecycle_model()
    {
        StepGen.Array[1, 25].Sample(steps =>
        {
            var order = new OrderBuilder();
            var model = new Model();
            foreach (var step in steps)
            {
                var command = ToCommand(step, model);
                var expected = Expect(model, step, command);
                var decision = order.Send(command);

                Assert.Equal(expected, decision.Error?.Code);
                if (decision.Error is null && !decision.AlreadyApplied)
                {
                    Apply(model, command);
                }

                Assert.Equal(model.Version, order.Events.Count);
                Assert.Equal(model.Status, order.State.Status);
                Assert.Equal(model.Paid, order.State.Paid);
                Assert.Equal(model.Refunded, order.State.Refunded);
                Assert.True(order.State.Refunded <= order.State.Paid);
            }
        }, iter: 2000);
    }

    private static OrderCommand ToCommand(Step step, Model model)
    {
        var amount = step.Cents / 100m;
        return step.Kind switch
        {
            "place" => OrderBuilder.Place(unitPrice: amount, quantity: step.Id),
            "pay" => new PayOrder($"pay-{step.Id}", step.Exact ? model.Total : amount, "card"),
            "ship" => new ShipOrder("DHL", "T"),
            "deliver" => new DeliverOrder(),
            "cancel" => new CancelOrder("why"),
            _ => new RefundOrder($"refund-{step.Id}", step.Exact ? Math.Max(0.01m, model.Paid - model.Refunded) : amount, "why"),
        };
    }

    /// <summary>API.md: the error a command must get, or null when it must be accepted.</summary>
    private static CommandErrorCode? Expect(Model model, Step step, OrderCommand command)
    {
        if (command is PlaceOrder)
        {
            return model.Status == OrderStatus.None ? null : CommandErrorCode.AlreadyExists;
        }

        if (model.Status == OrderStatus.None)
        {
            return CommandErrorCode.NotFound;
        }

        switch (command)
        {
            case PayOrder pay when pay.PaymentId == model.PaymentId:
                return pay.Amount == model.Paid ? null : CommandErrorCode.Unprocessable;
            case RefundOrder refund when model.Refunds.TryGetValue(refund.RefundId!, out var earlier):
                return refund.Amount == earlier ? null : CommandErrorCode.Unprocessable;
        }

        var allowed = (step.Kind, model.Status) switch
        {
            ("pay", OrderStatus.Placed) => true,
            ("ship", OrderStatus.Paid) => true,
            ("deliver", OrderStatus.Shipped) => true,
            ("cancel", OrderStatus.Placed or OrderStatus.Paid) => true,
            ("refund", OrderStatus.Delivered) => true,
            _ => false,
        };
        if (!allowed)
        {
            return CommandErrorCode.InvalidTransition;
        }

        return command switch
        {
            PayOrder pay when pay.Amount != model.Total => CommandErrorCode.Unprocessable,
            RefundOrder refund when refund.Amount > model.Paid - model.Refunded => CommandErrorCode.Unprocessable,
            _ => null,
        };
    }

    private static void Apply(Model model, OrderCommand command)
    {
        switch (command)
        {
            case PlaceOrder place:
                model.Status = OrderStatus.Placed;
                model.Total = place.Items!.Sum(i => i.Quantity!.Value * i.UnitPrice!.Value);
                model.Version++;
                break;
            case PayOrder pay:
                model.Status = OrderStatus.Paid;
                model.Paid = pay.Amount!.Value;
                model.PaymentId = pay.PaymentId;
                model.Version++;
                break;
            case ShipOrder:
                model.Status = OrderStatus.Shipped;
                model.Version++;
                break;
            case DeliverOrder:
                model.Status = OrderStatus.Delivered;
                model.Version++;
                break;
            case CancelOrder:
                model.Status = OrderStatus.Cancelled;
                model.Version++;
                if (model.Paid > model.Refunded)
                {
                    model.Refunds[OrderDecider.CancellationRefundId] = model.Paid - model.Refunded;
                    model.Refunded = model.Paid;
                    model.Version++;
                }

                break;
            case RefundOrder refund:
                model.Refunds[refund.RefundId!] = refund.Amount!.Value;
                model.Refunded += refund.Amount!.Value;
                model.Version++;
                if (model.Refunded == model.Paid)
                {
                    model.Status = OrderStatus.Refunded;
                }

                break;
        }
    }
}
