package org.outlierlab.model.graph;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.model.ModelConfig;

/**
 * Builds the network of SCIENCE.md §2 as a SameDiff graph from a configuration's switches (each block is a preset of
 * them: {@link ModelConfig#preset}): {@link #layer} is one layer, {@link #attention}, {@link #mlp} and
 * {@link #residual} its parts, {@link Norms} its norms. Every {@link Site} passes through {@link #site}, which names
 * it and applies its transform, if any. The graph starts at the looked-up embeddings: the lookup and its gradient run
 * outside it ({@code execution.Embeddings}).
 */
public final class GraphBuilder {
  private final ModelConfig c;
  private final DataType dtype;
  private final SiteTransforms transforms;
  private final SameDiff sd = SameDiff.create();
  private final GraphParameters params;
  private final Norms norms;
  private final Rope rope;
  private final Map<String, Site> sites = new LinkedHashMap<>();

  private GraphBuilder(ModelConfig c, DataType dtype, ParameterArrays arrays, SiteTransforms transforms) {
    this.c = c;
    this.dtype = dtype;
    this.transforms = transforms;
    this.params = new GraphParameters(sd, arrays);
    this.norms = new Norms(sd, c, params);
    this.rope = new Rope(sd, dtype, c.seqLen(), c.headSize());
  }

  /** The network and its backward pass, its parameters from {@code arrays} and its sites transformed as given. */
  public static Graph build(ModelConfig c, DataType dtype, ParameterArrays arrays, SiteTransforms transforms) {
    return new GraphBuilder(c, dtype, arrays, transforms).build();
  }

  private Graph build() {
    int d = c.dModel();
    // The tables first: a new model's weights are drawn in the order asked for.
    INDArray tokens = params.outside(Graph.EMBEDDING, w -> w.normal(c.vocabSize(), d));
    INDArray positions = c.positions() == ModelConfig.Positions.LEARNED
        ? params.outside(Graph.POSITIONS, w -> w.normal(c.seqLen(), d)) : null;
    SDVariable h = sd.var(Graph.INPUT, Nd4j.zeros(dtype, 1, c.seqLen(), d));
    SDVariable mask = sd.constant("causal_mask", causalMask(c.seqLen()));
    for (int l = 0; l < c.nLayers(); l++) {
      h = layer(h, mask, l);
    }
    if (c.finalNorm()) { // after the last residual sum, unless Post-LN's norm came after it
      h = norms.norm(c.normAfterResidual() ? h : site(h, "resid_mlp_sum", c.nLayers() - 1), "ln_final");
    }
    SDVariable flat = site(h, "unembed_in").reshape(-1, d);
    SDVariable logits = c.tiedEmbeddings()
        ? sd.mmul(flat, weight(params.trainable(Graph.EMBEDDING, w -> tokens), "unembed_weight"), false, true, false)
        : sd.mmul(flat, weight(params.trainable("lm_head", w -> w.normal(d, c.vocabSize())), "unembed_weight"));
    logits = logits.rename(Graph.LOGITS);
    // The loss in the graph is the SUM of per-token cross-entropies, and the mean's 1/N is applied to the
    // gradients outside: M2.1's fused sparseSoftmaxCrossEntropy backprop ignores the gradient flowing into it
    // (a mean came out as the sum; found by the finite-difference test), which is harmless for a plain sum,
    // whose incoming gradient is 1. The fused op also spares the B·T·V one-hot and log-softmax tensors.
    SDVariable labels = sd.placeHolder(Graph.LABELS, DataType.INT, -1);
    sd.loss.sparseSoftmaxCrossEntropy(logits, labels).sum().rename(Graph.LOSS_SUM);
    sd.setLossVariables(Graph.LOSS_SUM);
    createGradientsQuietly();
    transforms.requireAmong(sites.keySet());
    return new Graph(sd, params, sites, tokens, positions, c.tiedEmbeddings());
  }

  /**
   * One layer: h ← h + β·A(N_qk(h), N_v(h)); h ← h + β·M(N_mlp(h)), each input norm N there only if its switch is on,
   * and with norm_after_residual (Post-LN) a norm after each addition.
   */
  private SDVariable layer(SDVariable h, SDVariable mask, int l) {
    String p = "h" + l + "_";
    h = site(h, "resid_attn_in", l);
    // norm_attn_out: the normalised input of attention (of Q/K, or of V alone when only V is normed), where the
    // paper measures Pre-Norm models on Languini; normless blocks have no such site.
    SDVariable qkIn = c.normBeforeQk() ? site(norms.norm(h, p + "ln_attn"), "norm_attn_out", l) : h;
    SDVariable vIn = !c.normBeforeV() ? h
        : c.normBeforeQk() ? qkIn : site(norms.norm(h, p + "ln_v"), "norm_attn_out", l);
    h = residual(h, attention(qkIn, vIn, mask, l, p), p + "attn");
    if (c.normAfterResidual()) {
      h = norms.norm(site(h, "resid_attn_sum", l), p + "ln_post_attn");
    }
    h = site(h, "resid_mlp_in", l);
    SDVariable mlpIn = c.normBeforeMlp() ? site(norms.norm(h, p + "ln_mlp"), "norm_mlp_out", l) : h;
    h = residual(h, mlp(mlpIn, l, p), p + "mlp");
    if (c.normAfterResidual()) {
      h = norms.norm(site(h, "resid_mlp_sum", l), p + "ln_post_mlp");
    }
    return h;
  }

  /** Causal multi-head attention, softmax(q·kᵀ/√d_h + mask)·v, with QK-Norm, RoPE or the tanh cap as switched. */
  private SDVariable attention(SDVariable qkIn, SDVariable vIn, SDVariable mask, int l, String p) {
    int d = c.dModel();
    SDVariable q = heads(linear(qkIn.reshape(-1, d), "attn_q", l, p + "wq", d, d)
        .add(params.trainable(p + "bq", w -> w.zeros(d))));
    SDVariable k = heads(linear(qkIn.reshape(-1, d), "attn_k", l, p + "wk", d, d)
        .add(params.trainable(p + "bk", w -> w.zeros(d))));
    SDVariable v = heads(linear(vIn.reshape(-1, d), "attn_v", l, p + "wv", d, d));
    if (c.entropyRegulation() == ModelConfig.EntropyRegulation.QK_NORM) {
      // RMSNorm over the head dimension, one trainable gain per feature shared across heads (SCIENCE.md §2).
      q = site(norms.rms(q, params.trainable(p + "q_norm_gain", w -> w.ones(c.headSize())), 3), "q_norm_out", l);
      k = site(norms.rms(k, params.trainable(p + "k_norm_gain", w -> w.ones(c.headSize())), 3), "k_norm_out", l);
    }
    if (c.positions() == ModelConfig.Positions.ROPE) {
      q = rope.apply(q);
      k = rope.apply(k);
    }
    SDVariable scores = sd.mmul(q, k, false, true, false).mul(1.0 / Math.sqrt(c.headSize()));
    if (c.entropyRegulation() == ModelConfig.EntropyRegulation.TANH) {
      scores = sd.math.tanh(scores.div(ModelConfig.TANH_CAP)).mul(ModelConfig.TANH_CAP);
    }
    SDVariable probs = site(sd.nn.softmax(site(scores, "attn_scores", l).add(mask), 3), "attn_probs", l);
    SDVariable context = site(sd.mmul(probs, v), "attn_context", l);
    SDVariable rows = sd.permute(context, 0, 2, 1, 3).reshape(-1, d);
    return linear(rows, "attn_o", l, p + "wo", d, d).reshape(-1, c.seqLen(), d);
  }

  /** [B·T, d] → [B, H, T, head size]. */
  private SDVariable heads(SDVariable x) {
    return sd.permute(x.reshape(-1, c.seqLen(), c.nHeads(), c.headSize()), 0, 2, 1, 3);
  }

  /** W₂ φ(W₁ x), OP's frozen α scaling the pre-activation when the model has one. */
  private SDVariable mlp(SDVariable x, int l, String p) {
    int d = c.dModel();
    SDVariable pre = linear(x.reshape(-1, d), "mlp_up", l, p + "w1", d, c.mlpWidth());
    if (c.hasAlpha()) {
      pre = site(pre.mul(params.frozen(p + "alpha", w -> w.scalar(1.0))), "mlp_preact", l);
    }
    // ReLU as x·step(x): the same values and gradient (step's is zero), but M2.1's relu backprop is slow: forward
    // and backward on [256, 3072] take about 10 ms that way, 2.5 ms this way (docs/BENCHMARKS.md, train).
    SDVariable act = c.activation() == ModelConfig.Activation.RELU ? pre.mul(sd.math.step(pre, 0)) : sd.nn.gelu(pre);
    return linear(act, "mlp_down", l, p + "w2", c.mlpWidth(), d).reshape(-1, c.seqLen(), d);
  }

  /** rows·W, W a new [fanIn, fanOut] weight: the sites {@code map_in_l} (the rows) and {@code map_weight_l} (W). */
  private SDVariable linear(SDVariable rows, String map, int l, String weight, int fanIn, int fanOut) {
    SDVariable in = site(rows, map + "_in", l);
    return sd.mmul(in, weight(params.trainable(weight, w -> w.normal(fanIn, fanOut)), map + "_weight_" + l));
  }

  /** h + β·branch, with β a constant or a trained scalar. */
  private SDVariable residual(SDVariable h, SDVariable branch, String name) {
    if (c.betaTrainable()) {
      return h.add(branch.mul(params.trainable(name + "_beta", w -> w.scalar(c.beta()))));
    }
    return c.beta() == 1.0 ? h.add(branch) : h.add(branch.mul(c.beta()));
  }

  private SDVariable site(SDVariable x, String kind, int layer) {
    return site(x, kind + "_" + layer);
  }

  private SDVariable site(SDVariable x, String name) {
    return mark(x, name, false);
  }

  private SDVariable weight(SDVariable w, String name) {
    return mark(w, name, true);
  }

  /**
   * Makes {@code x} site {@code name}: applies the site's transform, if any, and names the result, which is what the
   * network uses from here. The graph's input and its parameters keep their own names (the site refers to them).
   */
  private SDVariable mark(SDVariable x, String name, boolean weight) {
    SDVariable y = transforms.apply(name, x);
    if (y.getVariableType() == VariableType.ARRAY) {
      y.rename(name);
    }
    sites.put(name, new Site(name, y.name(), weight));
    return y;
  }

  /**
   * Builds the backward graph now, with System.out silenced: M2.1's SameDiff prints a line per differentiated
   * op to standard output (not to its logger), which would flood a job's console. One model at a time: two
   * building at once (the workers of one executor, in parallel tasks) could each restore the other's silenced stream.
   */
  private void createGradientsQuietly() {
    synchronized (GraphBuilder.class) {
      java.io.PrintStream out = System.out;
      System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
      try {
        sd.createGradFunction();
      } finally {
        System.setOut(out);
      }
    }
  }

  /**
   * 0 on and below the diagonal, −∞ above it. −∞ rather than a large negative number: both make the softmax exactly 0
   * there, but glibc's expf takes its slow underflow path (errno and all) for finite arguments below about −104, and
   * half of every attention row was masked that way (about 3% of a quickstart step).
   */
  private INDArray causalMask(int t) {
    INDArray mask = Nd4j.zeros(dtype, t, t);
    for (int i = 0; i < t; i++) {
      for (int j = i + 1; j < t; j++) {
        mask.putScalar(i, j, Double.NEGATIVE_INFINITY);
      }
    }
    return mask;
  }
}
