package org.outlierlab.jobs.quant;

import java.util.List;
import java.util.Locale;

/** What the quant-eval job measured: one line per (run, step, protocol), and the tables it wrote. */
public record QuantEvalResult(List<Perplexity> perplexities, String evalTable, String errorTable) {
  public QuantEvalResult {
    perplexities = List.copyOf(perplexities);
  }

  /** A checkpoint's full-precision and quantised perplexity under one protocol, over {@code tokens} tokens. */
  public record Perplexity(String runId, long step, String protocol, long tokens, double fpPpl, double qPpl) {
    public double deltaPpl() {
      return qPpl - fpPpl;
    }
  }

  /** The lines bin/oflab prints when the job ends: a table of perplexities. */
  public List<String> summary() {
    List<String> lines = new java.util.ArrayList<>();
    lines.add(String.format(Locale.ROOT, "quant-eval: %-24s %8s %-10s %10s %10s %10s", "run", "step", "protocol",
        "fp_ppl", "q_ppl", "delta_ppl"));
    for (Perplexity p : perplexities) {
      lines.add(String.format(Locale.ROOT, "quant-eval: %-24s %8d %-10s %10.4f %10.4f %+10.4f", p.runId(), p.step(),
          p.protocol(), p.fpPpl(), p.qPpl(), p.deltaPpl()));
    }
    lines.add("quant-eval: tables " + evalTable + " and " + errorTable + " (bin/oflab sql: quant_eval, quant_error)");
    return lines;
  }
}
