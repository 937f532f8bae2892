package org.outlierlab.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scatter.ScatterAdd;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.model.optim.FusedOps;
import org.outlierlab.model.optim.ParameterLoop;

/**
 * A causal decoder-only transformer language model as a SameDiff graph, every block variant of SCIENCE.md §2.
 *
 * <p>The token (and learned position) embedding lookup happens outside the graph, with its gradient
 * scatter-added back, because SameDiff's gather gradient is broken in M2.1 and the one-hot alternative costs a
 * dense B·T·V·d product each way. The looked-up embeddings enter the graph as the variable {@code x0}, whose
 * gradient SameDiff returns (it returns none for placeholders). Sequences have exactly {@code seqLen} tokens;
 * the batch size may change from call to call.
 *
 * <p>With {@link #useThreads}(n), a training pass or a loss evaluation splits its batch into n contiguous parts that
 * run side by side on copies of the graph ({@link Replica}s, each on its own thread), sharing this model's parameter
 * arrays; the parts' loss and gradient sums are added in part order. Each op runs on one core, so this fills the
 * cores without the per-op thread start-up that libnd4j's OpenMP threads cost small ops.
 */
public final class TransformerLM {
  /** Sum over tokens of the next-token cross-entropy; the loss is this divided by the number of tokens. */
  private static final String LOSS_SUM = "loss_sum";
  public static final String LOGITS = "logits";
  public static final String EMBEDDING = "wte";
  public static final String POSITIONS = "wpe";
  private static final String INPUT = "x0";
  private static final String LABELS = "labels";

  private final ModelConfig c;
  private final DataType dtype;
  private final SameDiff sd = SameDiff.create();
  private final INDArray wte;
  private final INDArray wpe;
  /** Trainable graph variables, in creation order (wte is one of them when the embedding is tied). */
  private final List<String> graphParams = new ArrayList<>();
  /** Frozen graph variables (OP's alpha): part of the model's state, never given a gradient. */
  private final List<String> frozen = new ArrayList<>();
  /** Names whose values {@link #forwardBackward} can return: residual streams, attention probabilities. */
  private final List<String> sites = new ArrayList<>();
  /** Recycles the training pass's arrays from step to step (see {@link StepArrayPool}). */
  private final StepArrayPool passMemory = new StepArrayPool();
  /**
   * Draws the initial weights, in creation order. Java's generator, not ND4J's: M2.1's randn after
   * {@code Nd4j.getRandom().setSeed(s)} gave different values on every call, and CPU and GPU backends would differ.
   */
  private final SplittableRandom initRandom;
  /** A replica's primary model's parameters, which its graph uses instead of drawing its own; null in a primary. */
  private final Map<String, INDArray> shared;
  /** Copies of the graph that run the other parts of a split batch, one thread each (see {@link #useThreads}). */
  private final List<Replica> replicas = new ArrayList<>();

  private record Replica(TransformerLM model, ExecutorService thread) {}

  public TransformerLM(ModelConfig config, DataType dtype, long seed) {
    this.c = config;
    this.dtype = dtype;
    this.initRandom = new SplittableRandom(seed);
    this.shared = null;
    wte = normal(c.vocabSize(), c.dModel());
    wpe = c.positions() == ModelConfig.Positions.LEARNED ? normal(c.seqLen(), c.dModel()) : null;
    build();
  }

  /** A replica of {@code primary}: the same graph on the same parameter arrays, with its own activations. */
  private TransformerLM(TransformerLM primary) {
    this.c = primary.c;
    this.dtype = primary.dtype;
    this.initRandom = null;
    this.shared = primary.parameters();
    wte = primary.wte;
    wpe = primary.wpe;
    build();
  }

  public ModelConfig config() {
    return c;
  }

  public DataType dataType() {
    return dtype;
  }

  // ---------------------------------------------------------------- graph

  private void build() {
    int d = c.dModel();
    SDVariable h = sd.var(INPUT, Nd4j.zeros(dtype, 1, c.seqLen(), d));
    SDVariable mask = sd.constant("causal_mask", causalMask(c.seqLen()));
    for (int l = 0; l < c.nLayers(); l++) {
      String p = "h" + l + "_";
      if (l == 0) {
        sites.add("resid_attn_in_0"); // the input variable itself: returned from the embedding, not renamed
      } else {
        h = site(h, "resid_attn_in_" + l);
      }
      // norm_attn_out: the normalised input of attention (of Q/K, or of V alone when only V is normed), where the
      // paper measures Pre-Norm models on Languini; normless blocks have no such site.
      SDVariable qkIn = c.normBeforeQk() ? site(norm(h, p + "ln_attn"), "norm_attn_out_" + l) : h;
      SDVariable vIn = !c.normBeforeV() ? h
          : c.normBeforeQk() ? qkIn : site(norm(h, p + "ln_v"), "norm_attn_out_" + l);
      h = residual(h, attention(qkIn, vIn, mask, l, p), p + "attn");
      if (c.normAfterResidual()) {
        h = norm(h, p + "ln_post_attn");
      }
      h = site(h, "resid_mlp_in_" + l);
      SDVariable mlpIn = c.normBeforeMlp() ? site(norm(h, p + "ln_mlp"), "norm_mlp_out_" + l) : h;
      h = residual(h, mlp(mlpIn, p, l), p + "mlp");
      if (c.normAfterResidual()) {
        h = norm(h, p + "ln_post_mlp");
      }
    }
    if (c.finalNorm()) {
      h = norm(h, "ln_final");
    }
    h = site(h, "unembed_in");
    SDVariable flat = h.reshape(-1, d);
    SDVariable logits;
    if (c.tiedEmbeddings()) {
      logits = sd.mmul(flat, param(EMBEDDING, () -> wte), false, true, false);
    } else {
      logits = sd.mmul(flat, param("lm_head", () -> normal(d, c.vocabSize())));
    }
    logits = logits.rename(LOGITS);
    // The loss in the graph is the SUM of per-token cross-entropies, and the mean's 1/N is applied to the
    // gradients outside: M2.1's fused sparseSoftmaxCrossEntropy backprop ignores the gradient flowing into it
    // (a mean came out as the sum; found by the finite-difference test), which is harmless for a plain sum,
    // whose incoming gradient is 1. The fused op also spares the B·T·V one-hot and log-softmax tensors.
    SDVariable labels = sd.placeHolder(LABELS, DataType.INT, -1);
    sd.loss.sparseSoftmaxCrossEntropy(logits, labels).sum().rename(LOSS_SUM);
    sd.setLossVariables(LOSS_SUM);
    createGradientsQuietly();
  }

  /**
   * Builds the backward graph now, with System.out silenced: M2.1's SameDiff prints a line per differentiated
   * op to standard output (not to its logger), which would flood a job's console. One model at a time: two
   * building at once (the workers of one executor, in parallel tasks) could each restore the other's silenced stream.
   */
  private void createGradientsQuietly() {
    synchronized (TransformerLM.class) {
      java.io.PrintStream out = System.out;
      System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
      try {
        sd.createGradFunction();
      } finally {
        System.setOut(out);
      }
    }
  }

  private SDVariable attention(SDVariable qkIn, SDVariable vIn, SDVariable mask, int layer, String p) {
    int d = c.dModel();
    SDVariable q = heads(sd.mmul(qkIn.reshape(-1, d), param(p + "wq", () -> normal(d, d)))
        .add(param(p + "bq", () -> zeros(d))));
    SDVariable k = heads(sd.mmul(qkIn.reshape(-1, d), param(p + "wk", () -> normal(d, d)))
        .add(param(p + "bk", () -> zeros(d))));
    SDVariable v = heads(sd.mmul(vIn.reshape(-1, d), param(p + "wv", () -> normal(d, d))));
    if (c.entropyRegulation() == ModelConfig.EntropyRegulation.QK_NORM) {
      // RMSNorm over the head dimension, one trainable gain per feature shared across heads (SCIENCE.md §2).
      q = rms(q, param(p + "q_norm_gain", () -> ones(c.headSize())), 3);
      k = rms(k, param(p + "k_norm_gain", () -> ones(c.headSize())), 3);
    }
    if (c.positions() == ModelConfig.Positions.ROPE) {
      q = rope(q);
      k = rope(k);
    }
    SDVariable scores = sd.mmul(q, k, false, true, false).mul(1.0 / Math.sqrt(c.headSize()));
    if (c.entropyRegulation() == ModelConfig.EntropyRegulation.TANH) {
      scores = sd.math.tanh(scores.div(ModelConfig.TANH_CAP)).mul(ModelConfig.TANH_CAP);
    }
    SDVariable probs = sd.nn.softmax(scores.add(mask), 3);
    probs = site(probs, "attn_probs_" + layer);
    SDVariable out = sd.permute(sd.mmul(probs, v), 0, 2, 1, 3).reshape(-1, d);
    return sd.mmul(out, param(p + "wo", () -> normal(d, d))).reshape(-1, c.seqLen(), d);
  }

  /** [B·T, d] → [B, H, T, head size]. */
  private SDVariable heads(SDVariable x) {
    return sd.permute(x.reshape(-1, c.seqLen(), c.nHeads(), c.headSize()), 0, 2, 1, 3);
  }

  private SDVariable mlp(SDVariable x, String p, int layer) {
    int d = c.dModel();
    SDVariable pre = sd.mmul(x.reshape(-1, d), param(p + "w1", () -> normal(d, c.mlpWidth())));
    if (c.hasAlpha()) {
      String alpha = p + "alpha";
      frozen.add(alpha);
      SDVariable scale = sd.var(alpha, shared == null ? Nd4j.scalar(dtype, 1.0) : shared.get(alpha));
      pre = site(pre.mul(scale), "mlp_preact_" + layer);
    }
    // ReLU as x·step(x): the same values and gradient (step's is zero), but M2.1's relu backprop is slow: forward
    // and backward on [256, 3072] take about 10 ms that way, 2.5 ms this way (docs/BENCHMARKS.md, train).
    SDVariable act = c.activation() == ModelConfig.Activation.RELU ? pre.mul(sd.math.step(pre, 0)) : sd.nn.gelu(pre);
    return sd.mmul(act, param(p + "w2", () -> normal(c.mlpWidth(), d))).reshape(-1, c.seqLen(), d);
  }

  /** h + β·branch, with β a constant or a trained scalar. */
  private SDVariable residual(SDVariable h, SDVariable branch, String name) {
    if (c.betaTrainable()) {
      return h.add(branch.mul(param(name + "_beta", () -> Nd4j.scalar(dtype, c.beta()))));
    }
    return c.beta() == 1.0 ? h.add(branch) : h.add(branch.mul(c.beta()));
  }

  private SDVariable norm(SDVariable x, String name) {
    int d = c.dModel();
    return switch (c.norm()) {
      case LN -> {
        SDVariable centred = x.sub(x.mean(true, 2));
        SDVariable var = centred.mul(centred).mean(true, 2);
        yield gained(centred.div(sd.math.sqrt(var.add(c.normEps()))), var, param(name + "_gain", () -> ones(d)))
            .add(param(name + "_bias", () -> zeros(d)));
      }
      case RMS -> rms(x, param(name + "_gain", () -> ones(d)), 2);
      case SRMS -> rms(x, null, 2);
    };
  }

  /** x / (rms(x) + eps) over {@code axis} (the last), times the gain if any; eps outside the root (SCIENCE.md §2). */
  private SDVariable rms(SDVariable x, SDVariable gain, int axis) {
    SDVariable meanSquare = x.mul(x).mean(true, axis);
    SDVariable y = x.div(sd.math.sqrt(meanSquare).add(c.normEps()));
    return gain == null ? y : gained(y, meanSquare, gain);
  }

  /**
   * y·gain with the gain broadcast along y's last axis, written as y ⊙ (1·gainᵀ): the outer product of a ones column
   * (one row per entry of {@code perRow}, a statistic of y's rows kept as [..., 1]) and the gain, then a same-shape
   * multiply, so the gain's gradient is a matrix product. Why: M2.1's broadcasting multiply is slow in backprop
   * (forward and backward on [2, 128, 768]: about 6.5 ms, against 3.5 ms this way; docs/BENCHMARKS.md, train).
   */
  private SDVariable gained(SDVariable y, SDVariable perRow, SDVariable gain) {
    SDVariable rows = sd.onesLike(perRow).reshape(-1, 1);
    return y.mul(sd.mmul(rows, gain.reshape(1, -1)).reshape(sd.shape(y)));
  }

  /** Rotary embedding, half-split convention: x·cos + rotate_half(x)·sin, base 10000. */
  private SDVariable rope(SDVariable x) {
    int dh = c.headSize();
    int half = dh / 2;
    INDArray cos = Nd4j.create(dtype, c.seqLen(), dh);
    INDArray sin = Nd4j.create(dtype, c.seqLen(), dh);
    for (int t = 0; t < c.seqLen(); t++) {
      for (int i = 0; i < half; i++) {
        double angle = t * Math.pow(10000.0, -2.0 * i / dh);
        cos.putScalar(t, i, Math.cos(angle));
        cos.putScalar(t, i + half, Math.cos(angle));
        sin.putScalar(t, i, Math.sin(angle));
        sin.putScalar(t, i + half, Math.sin(angle));
      }
    }
    INDArray rotateHalf = Nd4j.zeros(dtype, dh, dh); // [x1, x2] · R = [-x2, x1]
    for (int i = 0; i < half; i++) {
      rotateHalf.putScalar(i + half, i, -1.0);
      rotateHalf.putScalar(i, i + half, 1.0);
    }
    SDVariable rotated = sd.mmul(x.reshape(-1, dh), sd.constant(rotateHalf)).reshape(sd.shape(x));
    return x.mul(sd.constant(cos)).add(rotated.mul(sd.constant(sin)));
  }

  private SDVariable site(SDVariable x, String name) {
    sites.add(name);
    return x.rename(name);
  }

  private SDVariable param(String name, Supplier<INDArray> init) {
    graphParams.add(name);
    return sd.var(name, shared == null ? init.get() : shared.get(name));
  }

  /** N(0, initStd²) values of the given shape. */
  private INDArray normal(long... shape) {
    int n = Math.toIntExact(java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact));
    if (dtype == DataType.DOUBLE) {
      double[] values = new double[n];
      for (int i = 0; i < n; i++) {
        values[i] = initRandom.nextGaussian() * c.initStd();
      }
      return Nd4j.create(values, shape, 'c');
    }
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) (initRandom.nextGaussian() * c.initStd());
    }
    return Nd4j.create(values, shape, 'c').castTo(dtype);
  }

  private INDArray zeros(long n) {
    return Nd4j.zeros(dtype, n);
  }

  private INDArray ones(long n) {
    return Nd4j.ones(dtype, n);
  }

  private INDArray causalMask(int t) {
    INDArray mask = Nd4j.zeros(dtype, t, t);
    for (int i = 0; i < t; i++) {
      for (int j = i + 1; j < t; j++) {
        mask.putScalar(i, j, -1e9);
      }
    }
    return mask;
  }

  // ---------------------------------------------------------------- running

  /** What one forward and backward pass gives. */
  public record Pass(double loss, Map<String, INDArray> gradients, Map<String, INDArray> activations) {}

  /**
   * Loss, the gradient of every parameter (by {@link #parameters()} name), and the requested activation sites
   * (see {@link #sites()}), all from one pass. {@code inputs} and {@code targets} are [B][seqLen]. The returned
   * arrays are valid until the next call, which reuses their memory.
   */
  public Pass forwardBackward(int[][] inputs, int[][] targets, Set<String> capture) {
    List<PartPass> parts = onParts(inputs, targets, (m, in, out) -> m.partPass(in, out, capture));
    double tokens = (double) inputs.length * c.seqLen();
    PartPass first = parts.get(0);
    Map<String, INDArray> grads = new LinkedHashMap<>();
    graphParams.forEach(name -> grads.put(name, first.gradients().get(name)));
    parameterLoop().forEach(grads, (name, sum) -> FusedOps.sumInto(sum,
        parts.subList(1, parts.size()).stream().map(part -> part.gradients().get(name)).toList(), tokens));
    embeddingGradients(inputs, concat(parts, PartPass::dx0).divi(tokens), grads);
    Map<String, INDArray> acts = new LinkedHashMap<>();
    for (String s : capture) {
      acts.put(s, concat(parts, part -> part.activations().get(s)));
    }
    return new Pass(parts.stream().mapToDouble(PartPass::lossSum).sum() / tokens, grads, acts);
  }

  /** One part's pass: sums over its tokens (not yet divided by the batch's token count) and its activations. */
  private record PartPass(double lossSum, Map<String, INDArray> gradients, INDArray dx0,
      Map<String, INDArray> activations) {}

  private PartPass partPass(int[][] inputs, int[][] targets, Set<String> capture) {
    usePassMemory();
    INDArray x0 = embed(inputs);
    sd.getVariable(INPUT).setArray(x0);
    List<String> outputs = new ArrayList<>(List.of(LOSS_SUM));
    for (String s : capture) {
      if (!s.equals("resid_attn_in_0")) {
        outputs.add(requireSite(s));
      }
    }
    List<String> wanted = new ArrayList<>(graphParams);
    wanted.add(INPUT);
    var result = sd.calculateGradientsAndOutputs(Map.of(LABELS, labels(targets)), outputs, wanted);
    Map<String, INDArray> acts = new LinkedHashMap<>();
    for (String s : capture) {
      acts.put(s, s.equals("resid_attn_in_0") ? x0 : result.getOutputs().get(s));
    }
    return new PartPass(result.getOutputs().get(LOSS_SUM).getDouble(0), result.getGradients(),
        result.getGradients().get(INPUT), acts);
  }

  /**
   * Uses {@code threads} threads for training passes and loss evaluations (1: this thread only). The replicas'
   * threads are daemons; each replica holds its own activations, about a 1/threads share of a pass's memory.
   */
  public void useThreads(int threads) {
    if (shared != null || threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1 (got " + threads + "), set on the primary model");
    }
    while (replicas.size() > threads - 1) {
      replicas.remove(replicas.size() - 1).thread().shutdown();
    }
    while (replicas.size() < threads - 1) {
      String name = "oflab-pass-" + (replicas.size() + 1);
      replicas.add(new Replica(new TransformerLM(this), Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
      })));
    }
  }

  public int threads() {
    return replicas.size() + 1;
  }

  private interface PartFunction<R> {
    R apply(TransformerLM model, int[][] inputs, int[][] targets);
  }

  /**
   * Runs {@code f} on contiguous parts of the batch, part 0 on this model in this thread and part i on replica i,
   * side by side; returns the results in part order. One part when single-threaded or the batch has one row.
   */
  private <R> List<R> onParts(int[][] inputs, int[][] targets, PartFunction<R> f) {
    int parts = Math.min(threads(), inputs.length);
    List<Future<R>> others = new ArrayList<>();
    for (int i = 1; i < parts; i++) {
      int from = inputs.length * i / parts;
      int to = inputs.length * (i + 1) / parts;
      Replica r = replicas.get(i - 1);
      int[][] in = java.util.Arrays.copyOfRange(inputs, from, to);
      int[][] out = java.util.Arrays.copyOfRange(targets, from, to);
      others.add(r.thread().submit(() -> f.apply(r.model(), in, out)));
    }
    int end = inputs.length / parts;
    List<R> results = new ArrayList<>();
    results.add(f.apply(this, java.util.Arrays.copyOfRange(inputs, 0, end),
        java.util.Arrays.copyOfRange(targets, 0, end)));
    results.addAll(await(others));
    return results;
  }

  /**
   * This model's threads as a {@link ParameterLoop}: the entries are dealt out by size (largest first, each to the
   * thread with the least so far), one share per thread, this thread taking the first.
   */
  public ParameterLoop parameterLoop() {
    return replicas.isEmpty() ? ParameterLoop.SERIAL : this::forEachInParallel;
  }

  private void forEachInParallel(Map<String, INDArray> arrays, BiConsumer<String, INDArray> body) {
    int n = threads();
    List<List<String>> shares = new ArrayList<>();
    long[] load = new long[n];
    for (int i = 0; i < n; i++) {
      shares.add(new ArrayList<>());
    }
    arrays.keySet().stream()
        .sorted(java.util.Comparator.comparingLong((String k) -> arrays.get(k).length()).reversed())
        .forEach(name -> {
          int least = 0;
          for (int i = 1; i < n; i++) {
            least = load[i] < load[least] ? i : least;
          }
          shares.get(least).add(name);
          load[least] += arrays.get(name).length();
        });
    List<Future<Void>> others = new ArrayList<>();
    for (int i = 1; i < n; i++) {
      List<String> share = shares.get(i);
      others.add(replicas.get(i - 1).thread().submit(() -> {
        share.forEach(name -> body.accept(name, arrays.get(name)));
        return null;
      }));
    }
    shares.get(0).forEach(name -> body.accept(name, arrays.get(name)));
    await(others);
  }

  /** The results of work handed to replica threads, in order; a failure there is rethrown here. */
  private static <R> List<R> await(List<Future<R>> futures) {
    List<R> results = new ArrayList<>();
    for (Future<R> future : futures) {
      try {
        results.add(future.get());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for a replica's thread", e);
      } catch (ExecutionException e) {
        throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
      }
    }
    return results;
  }

  /** The parts' arrays joined along the batch axis (the part's own array when there is one part). */
  private static <P> INDArray concat(List<P> parts, java.util.function.Function<P, INDArray> array) {
    if (parts.size() == 1) {
      return array.apply(parts.get(0));
    }
    return Nd4j.concat(0, parts.stream().map(array).toArray(INDArray[]::new));
  }

  /** Makes this thread's gradient session allocate from {@link #passMemory}, and starts a new pass there. */
  private void usePassMemory() {
    SameDiff gradient = sd.getFunction("grad"); // SameDiff.GRAD_FN_KEY, built in createGradientsQuietly
    InferenceSession session = gradient.getSessions()
        .computeIfAbsent(Thread.currentThread().getId(), id -> new InferenceSession(gradient));
    if (session.getMmgr() != passMemory) {
      session.setMmgr(passMemory);
    }
    passMemory.nextPass();
  }

  /** The requested activation sites (see {@link #sites()}) for the inputs, from a forward pass without gradient. */
  public Map<String, INDArray> activations(int[][] inputs, Set<String> capture) {
    INDArray x0 = embed(inputs);
    sd.getVariable(INPUT).setArray(x0);
    List<String> inGraph = capture.stream().filter(s -> !s.equals("resid_attn_in_0")).map(this::requireSite).toList();
    Map<String, INDArray> out = inGraph.isEmpty() ? Map.of() : sd.output(Map.of(), inGraph.toArray(new String[0]));
    Map<String, INDArray> acts = new LinkedHashMap<>();
    for (String s : capture) {
      acts.put(s, s.equals("resid_attn_in_0") ? x0 : out.get(s));
    }
    return acts;
  }

  /** Logits [B·seqLen, vocab] for the inputs (no gradient). */
  public INDArray logits(int[][] inputs) {
    sd.getVariable(INPUT).setArray(embed(inputs));
    return sd.output(Map.of(), LOGITS).get(LOGITS);
  }

  /** Mean next-token cross-entropy of {@code targets} given {@code inputs} (no gradient). */
  public double loss(int[][] inputs, int[][] targets) {
    double sum = onParts(inputs, targets, TransformerLM::lossSum).stream().mapToDouble(Double::doubleValue).sum();
    return sum / ((double) inputs.length * c.seqLen());
  }

  private double lossSum(int[][] inputs, int[][] targets) {
    sd.getVariable(INPUT).setArray(embed(inputs));
    return sd.output(Map.of(LABELS, labels(targets)), LOSS_SUM).get(LOSS_SUM).getDouble(0);
  }

  /** Every trainable parameter by name: the graph's variables plus the embedding tables kept outside it. */
  public Map<String, INDArray> parameters() {
    Map<String, INDArray> params = new LinkedHashMap<>();
    params.put(EMBEDDING, embeddingTable());
    if (wpe != null) {
      params.put(POSITIONS, wpe);
    }
    for (String name : graphParams) {
      params.put(name, sd.getVariable(name).getArr());
    }
    for (String name : frozen) {
      params.put(name, sd.getVariable(name).getArr());
    }
    return params;
  }

  /**
   * Sets OP's alpha for every layer as the configuration says, then it stays frozen: {@code MEASURED}, layer by layer,
   * measures the RMS of the MLP pre-activation W1·h on {@code inputs} and sets alpha = 1/RMS, so every MLP input
   * has unit RMS at initialisation; {@code RECURSION} takes the signal-propagation prediction ({@link AlphaRecursion})
   * and ignores the inputs.
   */
  public void initAlpha(int[][] inputs) {
    if (!c.hasAlpha()) {
      throw new IllegalStateException("model.alpha is none: this model has no alpha to set");
    }
    double[] predicted = c.alpha() == ModelConfig.Alpha.RECURSION ? AlphaRecursion.alphas(c) : null;
    for (int l = 0; l < c.nLayers(); l++) {
      INDArray alpha = sd.getVariable("h" + l + "_alpha").getArr();
      if (predicted != null) {
        alpha.assign(predicted[l]);
        continue;
      }
      alpha.assign(1.0);
      sd.getVariable(INPUT).setArray(embed(inputs));
      INDArray pre = sd.output(Map.of(), "mlp_preact_" + l).get("mlp_preact_" + l);
      double rms = Math.sqrt(pre.mul(pre).meanNumber().doubleValue());
      alpha.assign(1.0 / rms);
    }
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
   * Activation sites, in graph order: resid_attn_in_L, norm_attn_out_L (blocks with a norm before attention),
   * attn_probs_L, resid_mlp_in_L, norm_mlp_out_L (blocks with a norm before the MLP), mlp_preact_L (with α), ...,
   * unembed_in.
   */
  public List<String> sites() {
    return List.copyOf(sites);
  }

  private String requireSite(String s) {
    if (!sites.contains(s)) {
      throw new IllegalArgumentException("no activation site '" + s + "'; sites: " + sites);
    }
    return s;
  }

  /** The token embedding table; when tied, the graph variable itself (SameDiff may have copied the initial array). */
  private INDArray embeddingTable() {
    return c.tiedEmbeddings() ? sd.getVariable(EMBEDDING).getArr() : wte;
  }

  private INDArray embed(int[][] inputs) {
    int b = inputs.length;
    int t = c.seqLen();
    INDArray x = Nd4j.pullRows(embeddingTable(), 1, flatten(inputs)).muli(c.embeddingScale()).reshape(b, t, c.dModel());
    if (wpe != null) {
      x.addi(wpe.reshape(1, t, c.dModel()).broadcast(b, t, c.dModel()));
    }
    return x;
  }

  /**
   * dL/dwte[id] += scale · Σ dL/dx0[b,t] over the positions holding id; dL/dwpe = Σ_b dL/dx0[b]. The rows of one
   * id are summed here, in position order, and each id's sum is added once: libnd4j's multi-threaded scatter-add
   * of repeated ids is not reproducible from run to run.
   */
  private void embeddingGradients(int[][] inputs, INDArray dx0, Map<String, INDArray> grads) {
    int d = c.dModel();
    int[] ids = flatten(inputs);
    double[] rows = dx0.dup('c').data().asDouble(); // dup: SameDiff may return a view of a larger buffer
    Map<Integer, Integer> slot = new LinkedHashMap<>();
    for (int id : ids) {
      slot.putIfAbsent(id, slot.size());
    }
    double[] sums = new double[slot.size() * d];
    for (int i = 0; i < ids.length; i++) {
      int to = slot.get(ids[i]) * d;
      for (int j = 0; j < d; j++) {
        sums[to + j] += rows[i * d + j];
      }
    }
    INDArray perId = Nd4j.createFromArray(sums).reshape(slot.size(), d).muli(c.embeddingScale()).castTo(dtype);
    int[] unique = slot.keySet().stream().mapToInt(Integer::intValue).toArray();
    // In place, into this pass's memory: the tied unembedding's gradient (copied when SameDiff returned it as a
    // transposed view, which scatter-add would misread), or a zeroed array of the table's shape.
    INDArray tied = grads.get(EMBEDDING);
    INDArray grad = tied == null ? passMemory.allocate(true, dtype, wte.shape()).assign(0)
        : tied.dup('c');
    ScatterAdd add = new ScatterAdd(grad, Nd4j.createFromArray(unique), perId);
    add.addOutputArgument(grad);
    Nd4j.exec(add);
    grads.put(EMBEDDING, grad);
    if (wpe != null) {
      grads.put(POSITIONS, dx0.sum(0));
    }
  }

  /** Target ids, flattened to [B·seqLen]. */
  private INDArray labels(int[][] targets) {
    return Nd4j.createFromArray(flatten(targets));
  }

  private int[] flatten(int[][] rows) {
    int t = c.seqLen();
    int[] flat = new int[rows.length * t];
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].length != t) {
        throw new IllegalArgumentException("sequences must have " + t + " tokens, got " + rows[i].length);
      }
      System.arraycopy(rows[i], 0, flat, i * t, t);
    }
    return flat;
  }
}
