// The shipped `jobd` binary. A .NET developer who compiles in their own handlers publishes a copy of this
// project with them registered here; everything else lives in the Jobd library.
return await Jobd.JobdMain.RunAsync(args).ConfigureAwait(false);
