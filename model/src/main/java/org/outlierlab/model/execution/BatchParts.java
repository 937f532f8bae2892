package org.outlierlab.model.execution;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.model.optim.ParameterLoop;

/**
 * A model's threads: a batch split into n contiguous parts that run side by side, part 0 on the model's own replica
 * in the calling thread and part i on replica i in its own thread, the replicas sharing the parameter arrays. Each op
 * runs on one core, so this fills the cores without the per-op thread start-up that libnd4j's OpenMP threads cost
 * small ops. The same threads run the optimiser's loops over the parameters ({@link #parameterLoop}).
 */
public final class BatchParts {
  private final Replica primary;
  private final Supplier<Replica> newReplica;
  /** The other parts' replicas, each with its thread. */
  private final List<Other> others = new ArrayList<>();

  private record Other(Replica replica, ExecutorService thread) {}

  /** What runs on one part of a batch. */
  public interface PartFunction<R> {
    R apply(Replica replica, int[][] inputs, int[][] targets);
  }

  /** One thread, on {@code primary}; more threads get replicas from {@code newReplica}. */
  public BatchParts(Replica primary, Supplier<Replica> newReplica) {
    this.primary = primary;
    this.newReplica = newReplica;
  }

  /**
   * Uses {@code threads} threads (1: the calling thread only). The replicas' threads are daemons; each replica holds
   * its own activations, about a 1/threads share of a pass's memory.
   */
  public void resize(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1 (got " + threads + ")");
    }
    while (others.size() > threads - 1) {
      others.remove(others.size() - 1).thread().shutdown();
    }
    while (others.size() < threads - 1) {
      String name = "oflab-pass-" + (others.size() + 1);
      others.add(new Other(newReplica.get(), Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
      })));
    }
  }

  public int threads() {
    return others.size() + 1;
  }

  /**
   * Runs {@code f} on contiguous parts of the batch side by side and returns the results in part order. One part when
   * single-threaded or the batch has one row.
   */
  public <R> List<R> onParts(int[][] inputs, int[][] targets, PartFunction<R> f) {
    int parts = Math.min(threads(), inputs.length);
    List<Future<R>> futures = new ArrayList<>();
    for (int i = 1; i < parts; i++) {
      int from = inputs.length * i / parts;
      int to = inputs.length * (i + 1) / parts;
      Other o = others.get(i - 1);
      int[][] in = Arrays.copyOfRange(inputs, from, to);
      int[][] out = Arrays.copyOfRange(targets, from, to);
      futures.add(o.thread().submit(() -> f.apply(o.replica(), in, out)));
    }
    int end = inputs.length / parts;
    List<R> results = new ArrayList<>();
    results.add(f.apply(primary, Arrays.copyOfRange(inputs, 0, end), Arrays.copyOfRange(targets, 0, end)));
    results.addAll(await(futures));
    return results;
  }

  /**
   * These threads as a {@link ParameterLoop}: the entries are dealt out by size (largest first, each to the thread
   * with the least so far), one share per thread, the calling thread taking the first.
   */
  public ParameterLoop parameterLoop() {
    return others.isEmpty() ? ParameterLoop.SERIAL : this::forEachInParallel;
  }

  private void forEachInParallel(Map<String, INDArray> arrays, BiConsumer<String, INDArray> body) {
    int n = threads();
    List<List<String>> shares = new ArrayList<>();
    long[] load = new long[n];
    for (int i = 0; i < n; i++) {
      shares.add(new ArrayList<>());
    }
    arrays.keySet().stream()
        .sorted(Comparator.comparingLong((String k) -> arrays.get(k).length()).reversed())
        .forEach(name -> {
          int least = 0;
          for (int i = 1; i < n; i++) {
            least = load[i] < load[least] ? i : least;
          }
          shares.get(least).add(name);
          load[least] += arrays.get(name).length();
        });
    List<Future<Void>> futures = new ArrayList<>();
    for (int i = 1; i < n; i++) {
      List<String> share = shares.get(i);
      futures.add(others.get(i - 1).thread().submit(() -> {
        share.forEach(name -> body.accept(name, arrays.get(name)));
        return null;
      }));
    }
    shares.get(0).forEach(name -> body.accept(name, arrays.get(name)));
    await(futures);
  }

  /** The results of work handed to the replicas' threads, in order; a failure there is rethrown here. */
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
  public static <P> INDArray concat(List<P> parts, Function<P, INDArray> array) {
    if (parts.size() == 1) {
      return array.apply(parts.get(0));
    }
    return Nd4j.concat(0, parts.stream().map(array).toArray(INDArray[]::new));
  }
}
