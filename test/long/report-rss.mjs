// Loaded with node --import: prints the process's peak resident set on exit.
process.on("exit", () => {
  process.stderr.write(`max resident set: ${Math.round(process.resourceUsage().maxRSS / 1024)} MB\n`);
});
