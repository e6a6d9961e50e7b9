;; Checks history.edn files written by `rift-check FILE --export edn` with the real Knossos
;; (knossos.competition/analysis), key by key (jepsen.independent's [k v] tuples are split here),
;; with the models rift's checker/README.md documents.
;; usage: java -cp CP clojure.main rift_knossos.clj TIME-LIMIT-S MODEL:FILE ...   (MODEL: cas-register | kv)
;; prints one line per file: FILE VERDICT (valid | invalid | unknown) and the undecided/invalid keys.
(require '[knossos.competition :as competition]
         '[knossos.model :as model]
         '[clojure.edn :as edn]
         '[clojure.java.io :as io]
         '[clojure.string :as str])

(defrecord KV [value]
  knossos.model.Model
  (step [m op]
    (case (:f op)
      :put    (KV. (:value op))
      :append (KV. (str value (:value op)))
      :get    (if (= value (:value op))
                m
                (knossos.model/inconsistent
                  (str "can't read " (pr-str (:value op)) " from " (pr-str value)))))))

(defn read-history [f]
  (with-open [r (java.io.PushbackReader. (io/reader f))]
    (doall (take-while some? (repeatedly #(edn/read {:eof nil :default tagged-literal} r))))))

(defn check-file [limit-ms model-name file]
  ;; knossos.model.memo enumerates every reachable model before the search, re-expanding the whole set at each
  ;; step, up to max-state-space (1024) models: a finite register has a handful, but appends reach new strings
  ;; forever, and a key with one append token takes ~9 s (1,024 rounds over ever longer strings) before the memo
  ;; gives up and the search starts. For kv the bound is lowered: memoizing is an optimisation only (memo.clj
  ;; falls back to the plain model), so verdicts do not change.
  (alter-var-root #'knossos.model.memo/max-state-space (constantly (if (= model-name "kv") 64 1024)))
  (let [ops     (filter #(integer? (:process %)) (read-history file))
        tuples? (every? #(and (vector? (:value %)) (= 2 (count (:value %)))) ops)
        by-key  (if tuples?
                  (group-by :key (map (fn [op] (assoc op :key (first (:value op)) :value (second (:value op)))) ops))
                  {nil ops})
        init    (fn [] (if (= model-name "kv") (KV. "") (model/cas-register :rift/absent)))
        started (System/nanoTime)
        verdicts (into (sorted-map)
                   (for [[k h] by-key]
                     (let [h   (vec (map-indexed (fn [i op] (assoc (dissoc op :key) :index i)) h))
                           fut (future (competition/analysis (init) h))
                           a   (deref fut limit-ms ::timeout)]
                       (when (= a ::timeout) (future-cancel fut))
                       [(str k) (if (= a ::timeout) :unknown (:valid? a))])))
        verdict (cond (some false? (vals verdicts)) "invalid"
                      (every? true? (vals verdicts)) "valid"
                      :else "unknown")
        odd     (for [[k v] verdicts :when (not (true? v))] (str k "=" v))]
    (println (str file " " verdict " " (long (/ (- (System/nanoTime) started) 1e6)) "ms"
                  (if (seq odd) (str " keys: " (str/join "," odd)) "")))
    (flush)))

(let [[limit-s & specs] *command-line-args*
      limit-ms (long (* 1000 (Double/parseDouble limit-s)))]
  (doseq [spec specs]
    (let [[m f] (str/split spec #":" 2)]
      (try (check-file limit-ms m f)
           (catch Throwable e (println (str f " error " (.getMessage e))) (flush)))))
  (shutdown-agents)
  (System/exit 0))
