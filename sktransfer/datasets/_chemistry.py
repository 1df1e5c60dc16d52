"""Chemical class of a mineral from its RRUFF ``IDEAL CHEMISTRY`` formula."""

import re

__all__ = ["ANION_GROUPS", "anion_group", "formula_elements"]

ANION_GROUPS = (
    "silicate",
    "borate",
    "phosphate",
    "sulfate",
    "carbonate",
    "oxide",
    "non-oxide",
)

# Markup of RRUFF formulas: charges (^2+^), vacancies ([box]), site sums.
_MARKUP = re.compile(r"\^[^^]*\^|\[box\]|Σ=[0-9.]+|\bREE\b")
_ELEMENT = re.compile(r"[A-Z][a-z]?")
_KNOWN = frozenset(
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni "
    "Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I "
    "Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt "
    "Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu".split()
)


def formula_elements(formula):
    """Return the set of chemical elements named in a RRUFF formula.

    RRUFF writes subscripts between underscores (``Mg_2_SiO_4_``), charges
    between carets (``Fe^3+^``) and vacancies as ``[box]``; those are
    ignored, and so is ``REE`` (rare-earth elements, unspecified).

    Parameters
    ----------
    formula : str
        The ``IDEAL CHEMISTRY`` of a RRUFF file, or any chemical formula.

    Returns
    -------
    elements : set of str
        The element symbols in the formula.

    Raises
    ------
    ValueError
        If the formula names no element, or a symbol that is not an element.

    Examples
    --------
    >>> sorted(formula_elements("CaMn^2+^Si_2_O_6_"))
    ['Ca', 'Mn', 'O', 'Si']
    """
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string; got {type(formula).__name__}.")
    symbols = _ELEMENT.findall(_MARKUP.sub(" ", formula))
    unknown = sorted(set(symbols) - _KNOWN)
    if unknown:
        raise ValueError(f"Formula {formula!r} names unknown element(s) {unknown}.")
    if not symbols:
        raise ValueError(f"Formula {formula!r} names no chemical element.")
    return set(symbols)


def anion_group(formula):
    """Chemical class (anion group) of a mineral from its formula.

    The seven classes follow the main divisions of mineral systematics
    (Strunz), merged where few minerals would be left in a class. Oxygen
    must be present for every class but ``"non-oxide"``, and the first rule
    that matches wins:

    1. ``"silicate"``: Si (so borosilicates and phosphosilicates are
       silicates);
    2. ``"borate"``: B;
    3. ``"phosphate"``: P, As or V (phosphates, arsenates, vanadates);
    4. ``"sulfate"``: S, Se, Te, Cr, Mo or W (sulfates, selenates, tellurates,
       chromates, molybdates, tungstates);
    5. ``"carbonate"``: C or N (carbonates and nitrates);
    6. ``"oxide"``: any other oxygen-bearing mineral (oxides, hydroxides);
    7. ``"non-oxide"``: no oxygen (sulfides, halides, native elements...).

    Parameters
    ----------
    formula : str
        A RRUFF ``IDEAL CHEMISTRY`` formula (``load_rruff`` returns it in
        ``metadata["ideal_chemistry"]``).

    Returns
    -------
    group : str
        One of :data:`ANION_GROUPS`.

    Examples
    --------
    >>> anion_group("CaB_2_Si_2_O_8_")  # a borosilicate
    'silicate'
    >>> anion_group("Pb_5_(PO_4_)_3_Cl"), anion_group("ZnS")
    ('phosphate', 'non-oxide')
    """
    elements = formula_elements(formula)
    if "O" not in elements:
        return "non-oxide"
    for group, markers in (
        ("silicate", {"Si"}),
        ("borate", {"B"}),
        ("phosphate", {"P", "As", "V"}),
        ("sulfate", {"S", "Se", "Te", "Cr", "Mo", "W"}),
        ("carbonate", {"C", "N"}),
    ):
        if elements & markers:
            return group
    return "oxide"
