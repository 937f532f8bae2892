package org.outlierlab.model.quant;

import java.io.Serializable;
import java.util.List;

/**
 * A named quantisation protocol: how weights and activations are quantised, and at which sites (by kind:
 * {@code attn_q_weight}, {@code resid_mlp_in}, …; {@link org.outlierlab.model.graph.Site}). The two the paper's
 * comparison needs, {@code paper} and {@code deploy}, are defined in conf/defaults.conf (SCIENCE.md §5).
 */
public record Protocol(String name, Weights weights, Activations activations, List<String> weightSites,
    List<String> activationSites) implements Serializable {
  public Protocol {
    weightSites = List.copyOf(weightSites);
    activationSites = List.copyOf(activationSites);
  }

  /** Symmetric weight quantisation: one range per tensor or per output channel, min-max or MSE-searched. */
  public record Weights(int bits, Granularity granularity, WeightRange.Method range) implements Serializable {
    public IntGrid grid() {
      return new IntGrid(bits, true);
    }
  }

  /**
   * Activation quantisation: per tensor with static ranges calibrated on {@code calibrationBatches} training
   * batches (a running min-max with {@code momentum}, each batch's extremes optionally the {@code percentile}-th
   * and (100 − percentile)-th percentiles), symmetric or asymmetric; or per token, dynamic and symmetric.
   */
  public record Activations(int bits, Granularity granularity, boolean symmetric, int calibrationBatches,
      double momentum, double percentile) implements Serializable {
    public IntGrid grid() {
      return new IntGrid(bits, symmetric || granularity == Granularity.TOKEN);
    }

    public boolean calibrated() {
      return granularity == Granularity.TENSOR;
    }
  }

  /** Which values share a scale: the whole tensor, each output channel of a weight, each token of an activation. */
  public enum Granularity {
    TENSOR,
    CHANNEL,
    TOKEN
  }

  /** Whether the protocol quantises sites of this kind. */
  public boolean quantises(String kind, boolean weight) {
    return (weight ? weightSites : activationSites).contains(kind);
  }
}
