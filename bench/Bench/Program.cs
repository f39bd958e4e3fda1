using Sajet.Bench.Engine;
using Sajet.Bench.Onboarding;
using Sajet.Bench.Placement;

// ./sajet bench NAME: each benchmark prints name=value lines, ratios against baselines measured in the same run.
return args.FirstOrDefault() switch
{
    "engine" => await EngineBench.RunAsync(args[1..]),
    "silo" => await EngineBench.SiloAsync(), // hidden: a silo process for the engine benchmark
    "placement" => await PlacementBench.RunAsync(args[1..]),
    "onboarding" => await OnboardingBench.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Sajet.Bench engine|placement|onboarding");
    return 2;
}
