package org.outlierlab.model.quant;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.graph.Site;

/**
 * Turns protocols into {@link QuantPlan}s for a trained model: weight ranges from the weights themselves, static
 * activation ranges from the full-precision model's activations on calibration batches (as PyTorch's post-training
 * static quantisation observes the float model before converting it; SCIENCE.md §5). Deterministic: the same model
 * and batches give the same plan, whichever machine runs it.
 */
public final class Calibration {
  private Calibration() {}

  /** One plan per protocol; {@code batches} are the calibration inputs, each [B][seqLen], used as far as needed. */
  public static List<QuantPlan> plans(TransformerLM fp, List<Protocol> protocols, List<int[][]> batches) {
    int needed = 0;
    for (Protocol p : protocols) {
      if (p.activations().calibrated()) {
        needed = Math.max(needed, p.activations().calibrationBatches());
      }
    }
    if (needed > batches.size()) {
      throw new IllegalArgumentException(needed + " calibration batches asked for, " + batches.size() + " given");
    }
    Map<Protocol, Map<String, RangeEstimator>> byProtocol = new LinkedHashMap<>();
    Set<String> calibrated = new LinkedHashSet<>();
    for (Protocol p : protocols) {
      Map<String, RangeEstimator> own = new LinkedHashMap<>();
      if (p.activations().calibrated()) {
        for (String site : sites(fp, p, false)) {
          own.put(site, new RangeEstimator(p.activations().momentum(), p.activations().percentile()));
          calibrated.add(site);
        }
      }
      byProtocol.put(p, own);
    }
    for (int b = 0; b < needed; b++) {
      Map<String, INDArray> acts = fp.activations(batches.get(b), calibrated);
      for (String site : calibrated) {
        for (Protocol p : protocols) {
          RangeEstimator e = byProtocol.get(p).get(site);
          if (e != null && b < p.activations().calibrationBatches()) {
            e.add(acts.get(site));
          }
        }
      }
    }
    List<QuantPlan> plans = new ArrayList<>();
    for (Protocol p : protocols) {
      plans.add(plan(fp, p, byProtocol.get(p)));
    }
    return plans;
  }

  private static QuantPlan plan(TransformerLM fp, Protocol p, Map<String, RangeEstimator> ranges) {
    Map<String, Quantizer> bySite = new LinkedHashMap<>();
    Map<String, INDArray> params = fp.parameters();
    for (String name : fp.sites()) {
      Site site = fp.site(name);
      if (!p.quantises(Site.kind(name), site.weight())) {
        continue; // graph order, weights and activations interleaved as the table lists them
      }
      if (site.weight()) {
        INDArray w = params.get(site.variable());
        bySite.put(name, WeightRange.of(w.dup('c').data().asDouble(), (int) w.size(1), p.weights()));
      } else if (p.activations().calibrated()) {
        double[] range = ranges.get(name).range();
        bySite.put(name, Quantizer.Static.forRange(p.activations().grid(), range[0], range[1]));
      } else {
        bySite.put(name, new Quantizer.PerToken(p.activations().grid()));
      }
    }
    return new QuantPlan(p, bySite);
  }

  /** The model's sites the protocol quantises: its weights, or its activations. */
  static List<String> sites(TransformerLM model, Protocol p, boolean weights) {
    return model.sites().stream()
        .filter(s -> model.site(s).weight() == weights && p.quantises(Site.kind(s), weights)).toList();
  }
}
