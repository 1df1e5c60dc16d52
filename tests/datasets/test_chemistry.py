import pytest

from sktransfer.datasets import anion_group, formula_elements


@pytest.mark.parametrize(
    ("formula", "group"),
    [
        ("Be_3_Al_2_Si_6_O_18_", "silicate"),
        ("CaB_2_Si_2_O_8_", "silicate"),  # borosilicate: silicate first
        ("NaCaB_5_O_6_(OH)_6_·5H_2_O", "borate"),
        ("Pb_5_(PO_4_)_3_Cl", "phosphate"),
        ("CaCu^2+^As^5+^O_4_(OH)", "phosphate"),  # arsenate
        ("PbSO_4_", "sulfate"),
        ("CaWO_4_", "sulfate"),  # tungstate
        ("CaMg(CO_3_)_2_", "carbonate"),
        ("NaNO_3_", "carbonate"),  # nitrate
        ("Fe_2_O_3_", "oxide"),
        ("Mg(OH)_2_", "oxide"),
        ("ZnS", "non-oxide"),
        ("FeAsS", "non-oxide"),  # arsenide-sulfide, no oxygen
        ("CaF_2_", "non-oxide"),
        ("Na_3_Ca(Si_3_Al_3_)O_12_S", "silicate"),
    ],
)
def test_anion_group_of_rruff_formulas(formula, group):
    assert anion_group(formula) == group


def test_formula_elements_ignore_markup():
    assert formula_elements(
        "[box]Ca_2_(Mg_4.5-2.5_Fe^2+^_0.5-2.5_)_Σ=5_Si_8_O_22_"
    ) == {
        "Ca",
        "Mg",
        "Fe",
        "Si",
        "O",
    }


@pytest.mark.parametrize("bad", ["", "123", "Xx_2_O"])
def test_bad_formulas(bad):
    with pytest.raises(ValueError, match="Formula"):
        anion_group(bad)
    with pytest.raises(TypeError):
        anion_group(None)
