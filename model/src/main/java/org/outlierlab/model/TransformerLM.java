package org.outlierlab.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.outlierlab.model.execution.BatchParts;
import org.outlierlab.model.execution.Replica;
import org.outlierlab.model.execution.Replica.PartPass;
import org.outlierlab.model.graph.Graph;
import org.outlierlab.model.graph.InitialWeights;
import org.outlierlab.model.graph.ParameterArrays;
import org.outlierlab.model.graph.Site;
import org.outlierlab.model.graph.SiteTransforms;
import org.outlierlab.model.optim.FusedOps;
import org.outlierlab.model.optim.ParameterLoop;

/**
 * A causal decoder-only transformer language model, every block variant of SCIENCE.md §2: what training, evaluation
 * and the snapshots ask of the model. The network is built by {@link org.outlierlab.model.graph.GraphBuilder}, the
 * embedding lookup and its gradient run outside it ({@link Replica}), and with {@link #useThreads}(n) a batch is split
 * into n parts that run side by side ({@link BatchParts}); the parts' loss and gradient sums are added in part order.
 * Sequences have exactly {@code seqLen} tokens; the batch size may change from call to call.
 */
public final class TransformerLM {
  /** The token embedding table's name in {@link #parameters()}. */
  public static final String EMBEDDING = Graph.EMBEDDING;
  /** The learned position table's name in {@link #parameters()}. */
  public static final String POSITIONS = Graph.POSITIONS;

  private final ModelConfig c;
  private final DataType dtype;
  private final Replica primary;
  private final Graph graph;
  private final BatchParts parts;

  public TransformerLM(ModelConfig config, DataType dtype, long seed) {
    this(config, dtype, seed, SiteTransforms.NONE);
  }

  /** A model whose graph applies {@code transforms} at their sites ({@link Site}). */
  public TransformerLM(ModelConfig config, DataType dtype, long seed, SiteTransforms transforms) {
    this.c = config;
    this.dtype = dtype;
    this.primary = new Replica(c, dtype, ParameterArrays.drawn(new InitialWeights(seed, dtype, c.initStd())),
        transforms);
    this.graph = primary.graph();
    this.parts = new BatchParts(primary,
        () -> new Replica(c, dtype, ParameterArrays.sharedWith(parameters()), transforms));
  }

  public ModelConfig config() {
    return c;
  }

  public DataType dataType() {
    return dtype;
  }

  /** What one forward and backward pass gives. */
  public record Pass(double loss, Map<String, INDArray> gradients, Map<String, INDArray> activations) {}

  /**
   * Loss, the gradient of every parameter (by {@link #parameters()} name), and the requested sites (see
   * {@link #sites()}), all from one pass. {@code inputs} and {@code targets} are [B][seqLen]. The returned arrays
   * are valid until the next call, which reuses their memory.
   */
  public Pass forwardBackward(int[][] inputs, int[][] targets, Set<String> capture) {
    List<PartPass> passes = parts.onParts(inputs, targets, (r, in, out) -> r.trainingPass(in, out, capture));
    double tokens = (double) inputs.length * c.seqLen();
    PartPass first = passes.get(0);
    Map<String, INDArray> grads = new LinkedHashMap<>();
    graph.trainable().forEach(name -> grads.put(name, first.gradients().get(name)));
    parameterLoop().forEach(grads, (name, sum) -> FusedOps.sumInto(sum,
        passes.subList(1, passes.size()).stream().map(part -> part.gradients().get(name)).toList(), tokens));
    primary.addEmbeddingGradients(inputs, BatchParts.concat(passes, PartPass::dx0).divi(tokens), grads);
    Map<String, INDArray> acts = new LinkedHashMap<>();
    for (String s : capture) { // a weight is the same in every part
      acts.put(s, graph.site(s).weight() ? first.activations().get(s)
          : BatchParts.concat(passes, part -> part.activations().get(s)));
    }
    return new Pass(passes.stream().mapToDouble(PartPass::lossSum).sum() / tokens, grads, acts);
  }

  /**
   * Uses {@code threads} threads for training passes and loss evaluations (1: this thread only). The replicas'
   * threads are daemons; each replica holds its own activations, about a 1/threads share of a pass's memory.
   */
  public void useThreads(int threads) {
    parts.resize(threads);
  }

  public int threads() {
    return parts.threads();
  }

  /** This model's threads as a {@link ParameterLoop} (see {@link BatchParts#parameterLoop}). */
  public ParameterLoop parameterLoop() {
    return parts.parameterLoop();
  }

  /** The requested sites (see {@link #sites()}) for the inputs, from a forward pass without gradient. */
  public Map<String, INDArray> activations(int[][] inputs, Set<String> capture) {
    return primary.activations(inputs, capture);
  }

  /** Logits [B·seqLen, vocab] for the inputs (no gradient). */
  public INDArray logits(int[][] inputs) {
    return primary.logits(inputs);
  }

  /** Mean next-token cross-entropy of {@code targets} given {@code inputs} (no gradient). */
  public double loss(int[][] inputs, int[][] targets) {
    return lossSum(inputs, targets) / ((double) inputs.length * c.seqLen());
  }

  /** The sum over the batch's tokens of the next-token cross-entropy (no gradient), its parts added in order. */
  public double lossSum(int[][] inputs, int[][] targets) {
    return parts.onParts(inputs, targets, Replica::lossSum).stream().mapToDouble(Double::doubleValue).sum();
  }

  /** Every trainable parameter by name: the graph's variables plus the embedding tables kept outside it. */
  public Map<String, INDArray> parameters() {
    return graph.parameters();
  }

  /** Sets OP's α for every layer as the configuration says; it stays frozen from then on ({@link AlphaCalibration}). */
  public void initAlpha(int[][] inputs) {
    AlphaCalibration.calibrate(c, primary, inputs);
  }

  /** Overwrites every parameter with the same-named array (e.g. from a checkpoint), checking shapes. */
  public void loadParameters(Map<String, INDArray> values) {
    Map<String, INDArray> params = parameters();
    if (!params.keySet().equals(values.keySet())) {
      throw new IllegalArgumentException("parameters do not match this model: " + values.keySet() + " vs " + params.keySet());
    }
    params.forEach((name, p) -> {
      INDArray v = values.get(name);
      if (!java.util.Arrays.equals(p.shape(), v.shape())) {
        throw new IllegalArgumentException(name + " has shape " + java.util.Arrays.toString(v.shape())
            + ", the model expects " + java.util.Arrays.toString(p.shape()));
      }
      p.assign(v);
    });
  }

  /**
   * The sites ({@link Site}, which documents them), in graph order: resid_attn_in_L, norm_attn_out_L, ...,
   * attn_probs_L, ..., resid_mlp_in_L, norm_mlp_out_L, ..., mlp_preact_L, ..., unembed_in, unembed_weight.
   */
  public List<String> sites() {
    return graph.siteNames();
  }

  /** The site called {@code name}: whether it is a weight, and the variable holding it. */
  public Site site(String name) {
    return graph.site(name);
  }
}
